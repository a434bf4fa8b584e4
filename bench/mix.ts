/**
 * The mixed workload (`--mix`, Parley only): besides `send`, clients toggle reactions on recent messages of their
 * conversation (`react`), edit their own recent messages (`edit`) and move their read position (`read`). One
 * phase per kind in the mix (that kind alone, at --rate for --duration) gives each kind's AWS calls and cost per
 * entry from the call counter, as the main phases do for messages; then one phase of the mix itself gives the
 * blended figures, checked against what the per-kind ones predict. docs/benchmark.md explains the numbers.
 */
import { createDynamoClient } from "../runtime/aws/clients";
import { loadAwsConfig, loadTableNames } from "../runtime/contracts";
import type { LocalStack } from "../runtime/local/stack";
import { readPositions } from "../runtime/store/conversations";
import { log, sleep } from "./clock";
import { costPerMillionEntries } from "./cost";
import { summarize } from "./latency";
import {
  bodyFor,
  drainAndSettle,
  newHistogram,
  nowMs,
  sendOpenLoop,
  type Histogram,
  type ParleyFleet,
  type ParleyFrame,
  type PhaseSink,
  type ServerStamps,
  type TaggedSink,
} from "./load";
import { netOfBackground, startMeter, sumAwsCalls, type CallCounts, type CounterReading } from "./metrics";
import { formatMix, MIX_KINDS, type BenchOptions, type MixKind, type MixShares } from "./options";
import type { MixKindCounts, MixPhaseCost, MixReport } from "./phase-reports";
import type { TableSample } from "./pricing";
import { measureBaseline, type Baseline } from "./storm";
import type { SystemUnderTest } from "./system";
import { seededRandom, type Population } from "./workload";

/** A small set, far below the 20 distinct emoji a message may carry, so a toggle is never refused for the cap. */
export const MIX_EMOJI = ["👍", "❤️", "😂", "🎉", "👀", "🙏"] as const;
/** How many of the newest messages count as "recent": reactions pick among them, edits among the sender's own. */
export const RECENT_MESSAGES = 8;

export interface PlannedEntry {
  readonly kind: MixKind;
  readonly conversation: number;
  /** The planned sender; an edit or a receipt may go to another member of the conversation (MixTargets). */
  readonly sender: number;
  readonly dueMs: number;
}

/**
 * An open-loop schedule at `rate` entries/s: each entry draws its kind by the shares, then a conversation
 * uniformly and a random member, as planMessages does for messages.
 */
export function planMix(
  pop: Population,
  shares: MixShares,
  rate: number,
  durationS: number,
  seed: number,
): PlannedEntry[] {
  const rnd = seededRandom(seed);
  const total = MIX_KINDS.reduce((n, k) => n + shares[k], 0);
  const count = Math.max(1, Math.round(rate * durationS));
  const out: PlannedEntry[] = [];
  const kinds = MIX_KINDS.filter((k) => shares[k] > 0);
  const kindAt = (x: number): MixKind => {
    for (const k of kinds) if ((x -= shares[k]) < 0) return k;
    return kinds[kinds.length - 1]!;
  };
  for (let i = 0; i < count; i++) {
    const kind = kindAt(rnd() * total);
    const conv = pop.conversations[Math.floor(rnd() * pop.conversations.length)]!;
    const sender = conv.members[Math.floor(rnd() * conv.members.length)]!;
    out.push({ kind, conversation: conv.index, sender, dueMs: (i * 1000) / rate });
  }
  return out;
}

/**
 * What each client has seen of its conversation (every bench client is in exactly one): the newest messages, its
 * own newest messages, the highest seq, the read position it last sent and the reactions it has on; from these
 * the driver picks what a `react`, `edit` or `read` refers to, as a user looking at the chat would.
 */
export class MixTargets {
  private readonly recent: number[][];
  private readonly own: number[][];
  private readonly highest: number[];
  private readonly lastRead: number[];
  private readonly reacted: Set<string>[];

  constructor(private readonly pop: Population) {
    const n = pop.clients;
    this.recent = Array.from({ length: n }, () => []);
    this.own = Array.from({ length: n }, () => []);
    this.highest = new Array<number>(n).fill(0);
    this.lastRead = new Array<number>(n).fill(0);
    this.reacted = Array.from({ length: n }, () => new Set<string>());
  }

  /**
   * Where the client stands when the mix starts: the seqs it has (its gap-free prefix) and its read position as
   * stored (its own messages of the earlier phases moved it).
   */
  start(client: number, contiguous: number, lastRead: number): void {
    this.highest[client] = Math.max(this.highest[client]!, contiguous);
    this.lastRead[client] = Math.max(this.lastRead[client]!, lastRead);
  }

  /** Every frame a client receives (ParleyFleet.onFrame). */
  observe(client: number, f: ParleyFrame): void {
    if ((f.type !== "message" && f.type !== "event") || f.seq === undefined) return;
    this.highest[client] = Math.max(this.highest[client]!, f.seq);
    const own = f.senderId === this.pop.userIds[client];
    // The gateway moves a sender's read position to each entry of theirs it routes (a message, an edit, a reaction).
    if (own) this.lastRead[client] = Math.max(this.lastRead[client]!, f.seq);
    if (f.type !== "message" || f.deleted) return;
    push(this.recent[client]!, f.seq);
    if (own) push(this.own[client]!, f.seq);
  }

  /** A recent message of the client's conversation, an emoji, and the toggle: off if the client has it on. */
  reaction(client: number, rnd: () => number): { seq: number; emoji: string; on: boolean } | undefined {
    const seq = pick(this.recent[client]!, rnd);
    if (seq === undefined) return undefined;
    const emoji = MIX_EMOJI[Math.floor(rnd() * MIX_EMOJI.length)]!;
    const key = `${seq} ${emoji}`;
    const reacted = this.reacted[client]!;
    const on = !reacted.has(key);
    if (on) reacted.add(key);
    else reacted.delete(key);
    return { seq, emoji, on };
  }

  /** One of the planned sender's own recent messages, else the next member (in order) that has one. */
  edit(members: readonly number[], planned: number, rnd: () => number): { sender: number; seq: number } | undefined {
    const sender = rotate(members, planned).find((m) => this.own[m]!.length > 0);
    return sender === undefined ? undefined : { sender, seq: pick(this.own[sender]!, rnd)! };
  }

  /**
   * The planned reader if it has anything unread, else the next member that has: its read position moves one
   * entry on, as a user's does scrolling through what is unread. (Reading up to the newest at once would cost the
   * same per read, but leave nothing to read for a phase of receipts alone.)
   */
  receipt(members: readonly number[], planned: number): { reader: number; seq: number } | undefined {
    const reader = rotate(members, planned).find((m) => this.highest[m]! > this.lastRead[m]!);
    if (reader === undefined) return undefined;
    const seq = ++this.lastRead[reader]!;
    return { reader, seq };
  }
}

function push(list: number[], seq: number): void {
  if (list.includes(seq)) return;
  list.push(seq);
  if (list.length > RECENT_MESSAGES) list.shift();
}

const pick = (list: readonly number[], rnd: () => number): number | undefined =>
  list.length ? list[Math.floor(rnd() * list.length)] : undefined;

/** `members` starting at `first`, wrapping around. */
function rotate(members: readonly number[], first: number): number[] {
  const i = Math.max(0, members.indexOf(first));
  return [...members.slice(i), ...members.slice(0, i)];
}

const EVENT_KIND: Partial<Record<string, MixKind>> = { react: "reactions", edit: "edits" };

class KindTally {
  planned = 0;
  sent = 0;
  skipped = 0;
  accepted = 0;
  expected = 0;
  delivered = 0;
  duplicates = 0;
  readonly errors: Record<string, number> = {};
  readonly latency: Histogram = newHistogram();

  counts(): MixKindCounts {
    return {
      planned: this.planned,
      sent: this.sent,
      skipped: this.skipped,
      accepted: this.accepted,
      errors: this.errors,
      expected: this.expected,
      delivered: this.delivered,
      duplicates: this.duplicates,
      latency: summarize(this.latency),
    };
  }
}

/**
 * Counts one mixed phase per kind: messages by the tag in their body, events (edit, react) by the tag in their
 * clientMessageId, receipts by (reader, seq). A delivery is to a member other than the entry's sender; the
 * sender's own copy (echo, or its own receipt: the read moved) is not one.
 */
export class MixRecorder implements TaggedSink {
  readonly kinds = Object.fromEntries(MIX_KINDS.map((k) => [k, new KindTally()])) as Record<MixKind, KindTally>;
  startedAt = 0;
  orderViolations = 0;
  strays = 0;
  /** Who actually sent each entry (-1: not sent). */
  private readonly senderOf: Int32Array;
  private readonly refused: Uint8Array;
  private readonly moved: Uint8Array;
  private readonly seen = new Set<number>();
  private readonly lastSeq = new Map<number, number>();
  private readonly receipts = new Map<string, number>();
  private readonly clientOf: Map<string, number>;

  constructor(
    readonly tag: string,
    private readonly pop: Population,
    readonly plan: readonly PlannedEntry[],
  ) {
    this.senderOf = new Int32Array(plan.length).fill(-1);
    this.refused = new Uint8Array(plan.length);
    this.moved = new Uint8Array(plan.length);
    this.clientOf = new Map(pop.userIds.map((u, i) => [u, i]));
    for (const p of plan) this.kinds[p.kind].planned++;
  }

  private others(i: number): number {
    return this.pop.conversations[this.plan[i]!.conversation]!.size - 1;
  }

  /** Entry `i` went out from `sender`; a receipt's deliveries are expected once the reader's own one shows it moved. */
  sent(i: number, sender: number, receiptSeq?: number): void {
    const p = this.plan[i]!;
    this.senderOf[i] = sender;
    this.kinds[p.kind].sent++;
    if (p.kind === "receipts") this.receipts.set(`${sender} ${receiptSeq}`, i);
    else this.kinds[p.kind].expected += this.others(i);
  }

  skipped(i: number): void {
    this.kinds[this.plan[i]!.kind].skipped++;
  }

  get delivered(): number {
    return MIX_KINDS.reduce((n, k) => n + this.kinds[k].delivered, 0);
  }

  get expected(): number {
    return MIX_KINDS.reduce((n, k) => n + this.kinds[k].expected, 0);
  }

  get sentTotal(): number {
    return MIX_KINDS.reduce((n, k) => n + this.kinds[k].sent, 0);
  }

  private deliver(i: number, receiver: number, seq: number | undefined): void {
    const kind = this.plan[i]!.kind;
    if (receiver === this.senderOf[i]) return;
    const key = i * 131072 + receiver;
    if (this.seen.has(key)) {
      this.kinds[kind].duplicates++;
      return;
    }
    this.seen.add(key);
    const tally = this.kinds[kind];
    tally.delivered++;
    tally.latency.recordValue(Math.max(1, Math.round((nowMs() - (this.startedAt + this.plan[i]!.dueMs)) * 1000)));
    if (seq !== undefined) {
      // Each receiver holds one conversation: the log's seqs (messages and events alike) only go up.
      if (seq < (this.lastSeq.get(receiver) ?? 0)) this.orderViolations++;
      else this.lastSeq.set(receiver, seq);
    }
  }

  private indexOf(id: string | undefined, sep: string): number {
    if (!id?.startsWith(this.tag + sep)) return -1;
    const i = Number(id.slice(this.tag.length + 1).split(/[|-]/)[0]);
    return Number.isInteger(i) && i >= 0 && i < this.plan.length ? i : -1;
  }

  onMessage(receiver: number, _senderId: string, body: string, stamps?: ServerStamps): void {
    const i = this.indexOf(body, "|");
    // Not a message of this phase: a stray, or (after a reconnect's sync) a message in its current, edited state.
    if (i < 0 || this.plan[i]!.kind !== "messages") {
      if (i < 0) this.strays++;
      return;
    }
    this.deliver(i, receiver, stamps?.seq);
  }

  onEvent(receiver: number, f: ParleyFrame): void {
    const i = this.indexOf(f.clientMessageId, "-");
    if (i < 0 || EVENT_KIND[f.kind ?? ""] !== this.plan[i]!.kind) {
      this.strays++;
      return;
    }
    this.deliver(i, receiver, f.seq);
  }

  onReceipt(receiver: number, userId: string, seq: number): void {
    const reader = this.clientOf.get(userId);
    const i = reader === undefined ? undefined : this.receipts.get(`${reader} ${seq}`);
    if (i === undefined) return;
    if (receiver === reader) {
      if (!this.moved[i]) {
        this.moved[i] = 1;
        this.kinds.receipts.accepted++;
        this.kinds.receipts.expected += this.others(i);
      }
      return;
    }
    this.deliver(i, receiver, undefined);
  }

  onAccepted(_sender: number, clientMessageId: string): void {
    const i = this.indexOf(clientMessageId, "-");
    if (i >= 0) this.kinds[this.plan[i]!.kind].accepted++;
  }

  onError(_sender: number, code: string, clientMessageId?: string, refType?: string): void {
    const i = this.indexOf(clientMessageId, "-");
    const kind: MixKind | undefined =
      i >= 0 ? this.plan[i]!.kind : refType === "read" ? "receipts" : refType === "send" ? "messages" : undefined;
    if (!kind) {
      this.strays++;
      return;
    }
    const tally = this.kinds[kind];
    tally.errors[code] = (tally.errors[code] ?? 0) + 1;
    // A refused entry is never delivered: it is an error, not a loss.
    if (i >= 0 && !this.refused[i] && kind !== "receipts") {
      this.refused[i] = 1;
      tally.expected -= this.others(i);
    }
  }
}

export interface MixContext {
  readonly stack: LocalStack;
  readonly sut: SystemUnderTest;
  readonly fleet: ParleyFleet;
  readonly pop: Population;
  readonly sink: PhaseSink;
  readonly o: BenchOptions;
  /** Stored item sizes (cost.ts sampleTables), read after the mix so its entries are in the sample. */
  readonly tables: () => Promise<Record<string, TableSample>>;
}

interface MixPhaseRun {
  readonly recorder: MixRecorder;
  readonly reading: CounterReading;
  readonly seconds: number;
}

/** Every client's stored read position in its conversation, read by the harness (not metered). */
async function storedReadPositions(stack: LocalStack, pop: Population): Promise<Map<number, number>> {
  const e = stack.gatewayBaseEnv;
  const db = { ddb: createDynamoClient(loadAwsConfig(e)), tables: loadTableNames(e) };
  try {
    const client = new Map(pop.userIds.map((u, i) => [u, i]));
    const out = new Map<number, number>();
    for (const c of pop.conversations) {
      const members = c.members.map((m) => pop.userIds[m]!);
      for (const [userId, seq] of Object.entries(await readPositions(db, c.id, members))) {
        out.set(client.get(userId)!, seq);
      }
    }
    return out;
  } finally {
    db.ddb.destroy();
  }
}

/** Drives one plan open-loop, each entry as its frame (skipped when it has no target), metered like runPlan. */
async function runMixPhase(
  ctx: MixContext,
  targets: MixTargets,
  tag: string,
  plan: readonly PlannedEntry[],
  seed: number,
): Promise<MixPhaseRun> {
  const { sut, fleet, pop, sink, o } = ctx;
  const recorder = new MixRecorder(tag, pop, plan);
  sink.register(recorder);
  const rnd = seededRandom(seed);
  const meter = await startMeter(sut.processes());
  const start = nowMs() + 20;
  recorder.startedAt = start;
  const label = `parley ${tag} ${planLabel(plan)} @${o.rate}/s`;
  let lastProgress = start;
  const progress = () => {
    const t = nowMs();
    if (t - lastProgress < 2_000) return;
    lastProgress = t;
    log(
      `${label} t=${((t - start) / 1000).toFixed(0)}s sent=${recorder.sentTotal}/${plan.length} ` +
        `delivered=${recorder.delivered}/${recorder.expected}`,
    );
  };
  const send = (i: number) => {
    const p = plan[i]!;
    const conv = pop.conversations[p.conversation]!;
    const base = { conversationId: conv.id, clientMessageId: `${tag}-${i}` };
    const body = () => bodyFor(tag, i, start + p.dueMs, o.bodyBytes);
    let sender = p.sender;
    let frame: Record<string, unknown> | undefined;
    let receiptSeq: number | undefined;
    if (p.kind === "messages") frame = { type: "send", ...base, body: body() };
    else if (p.kind === "reactions") {
      const t = targets.reaction(p.sender, rnd);
      if (t) frame = { type: "react", ...base, ...t };
    } else if (p.kind === "edits") {
      const t = targets.edit(conv.members, p.sender, rnd);
      if (t) {
        sender = t.sender;
        frame = { type: "edit", ...base, seq: t.seq, body: body() };
      }
    } else {
      const t = targets.receipt(conv.members, p.sender);
      if (t) {
        sender = t.reader;
        receiptSeq = t.seq;
        frame = { type: "read", conversationId: conv.id, seq: t.seq };
      }
    }
    const ws = fleet.sockets[sender];
    if (!frame || !ws) return recorder.skipped(i);
    ws.send(JSON.stringify(frame));
    recorder.sent(i, sender, receiptSeq);
  };
  await sendOpenLoop(
    start,
    plan.map((p) => p.dueMs),
    send,
    progress,
  );
  await drainAndSettle(
    { delivered: () => recorder.delivered, expected: () => recorder.expected },
    o,
    progress,
    () => undefined,
  );
  const seconds = (nowMs() - start) / 1000;
  const { cpu: _cpu, ...reading } = await meter.read();
  sink.current = undefined;
  log(
    `${label} done: ` +
      MIX_KINDS.filter((k) => recorder.kinds[k].planned > 0)
        .map((k) => {
          const c = recorder.kinds[k].counts();
          const errors = Object.keys(c.errors).length ? ` errors ${JSON.stringify(c.errors)}` : "";
          return `${k} sent ${c.sent} (skipped ${c.skipped}) delivered ${c.delivered}/${c.expected} p99 ${c.latency.p99} ms${errors}`;
        })
        .join("; ") +
      `; order ${recorder.orderViolations}; ${seconds.toFixed(1)} s metered`,
  );
  await sleep(300);
  return { recorder, reading, seconds };
}

function planLabel(plan: readonly PlannedEntry[]): string {
  const kinds = new Set(plan.map((p) => p.kind));
  return kinds.size === 1 ? `${[...kinds][0]} only` : "mix";
}

function perEntry(calls: CallCounts, entries: number): CallCounts {
  const out: CallCounts = {};
  for (const [proc, ops] of Object.entries(calls)) {
    out[proc] = {};
    for (const [op, n] of Object.entries(ops)) out[proc][op] = n / Math.max(1, entries);
  }
  return out;
}

function phaseCost(
  run: MixPhaseRun,
  baseline: Baseline,
  tables: Record<string, TableSample>,
  entries: number,
  what: string,
): MixPhaseCost {
  const net: CounterReading = {
    calls: netOfBackground(run.reading.calls, baseline.counters.calls, baseline.seconds, run.seconds),
    billing: netOfBackground(run.reading.billing, baseline.counters.billing, baseline.seconds, run.seconds),
  };
  const callsPerEntry = perEntry(run.reading.calls, entries);
  const netCallsPerEntry = perEntry(net.calls, entries);
  return {
    entries,
    seconds: run.seconds,
    callsPerEntry,
    callsPerEntryTotal: sumAwsCalls(callsPerEntry),
    netCallsPerEntry,
    netCallsPerEntryTotal: sumAwsCalls(netCallsPerEntry),
    costPerMillionUsd: costPerMillionEntries([run.reading], entries, what, tables, "the mixed workload"),
    netCostPerMillionUsd: costPerMillionEntries(
      [net],
      entries,
      `${what}, net of a ${baseline.seconds.toFixed(1)} s quiet baseline's rates`,
      tables,
      "the mixed workload",
    ),
  };
}

/**
 * The mixed-workload step: a quiet baseline, one phase per kind of the mix (that kind alone), then the mix. The
 * per-kind phases' seeds differ from the mix's, so the mix is not a replay of them.
 */
export async function runMix(ctx: MixContext): Promise<MixReport> {
  const { o, pop, fleet } = ctx;
  const shares = o.mix!;
  const kinds = MIX_KINDS.filter((k) => shares[k] > 0);
  log(`mix: ${formatMix(shares)} at ${o.rate} entries/s × ${o.durationS} s: one phase per kind, then the mix`);
  const targets = new MixTargets(pop);
  const positions = await storedReadPositions(ctx.stack, pop);
  for (let i = 0; i < pop.clients; i++) targets.start(i, fleet.seqs[i]!.contiguous, positions.get(i) ?? 0);
  const previous = fleet.onFrame;
  fleet.onFrame = (client, f) => {
    targets.observe(client, f);
    previous?.(client, f);
  };
  try {
    const baseline = await measureBaseline(ctx.sut);
    const isolated = new Map<MixKind, MixPhaseRun>();
    for (const [n, kind] of kinds.entries()) {
      const only = Object.fromEntries(MIX_KINDS.map((k) => [k, k === kind ? 100 : 0])) as MixShares;
      const plan = planMix(pop, only, o.rate, o.durationS, o.seed + 200 + n);
      isolated.set(kind, await runMixPhase(ctx, targets, `i${n}`, plan, o.seed + 300 + n));
    }
    const mixed = await runMixPhase(
      ctx,
      targets,
      "mix",
      planMix(pop, shares, o.rate, o.durationS, o.seed + 250),
      o.seed + 350,
    );
    const tables = await ctx.tables();

    const kindReports = kinds.map((kind) => {
      const run = isolated.get(kind)!;
      const counts = run.recorder.kinds[kind].counts();
      return {
        kind,
        sharePct: shares[kind],
        mixed: mixed.recorder.kinds[kind].counts(),
        isolated: {
          ...counts,
          cost: phaseCost(run, baseline, tables, counts.sent, `${counts.sent} ${kind} sent in their own phase`),
        },
      };
    });
    const mixedSent = mixed.recorder.sentTotal;
    const predicted = (f: (c: MixPhaseCost) => number) =>
      kindReports.reduce((n, k) => n + k.mixed.sent * f(k.isolated.cost), 0) / Math.max(1, mixedSent);
    return {
      shares,
      rate: o.rate,
      durationS: o.durationS,
      baselineS: baseline.seconds,
      kinds: kindReports,
      mixed: {
        cost: phaseCost(mixed, baseline, tables, mixedSent, `${mixedSent} entries sent in the mixed phase`),
        orderViolations: mixed.recorder.orderViolations,
        predictedNetCallsPerEntry: predicted((c) => c.netCallsPerEntryTotal),
        predictedNetCostPerMillionUsd: predicted((c) => c.netCostPerMillionUsd.totalUsd),
      },
    };
  } finally {
    fleet.onFrame = previous;
  }
}
