/**
 * The reconnect storm (Parley only, the bench's last step): first the cost of one connect, from a sample of
 * clients that disconnect and connect again while everything is quiet; then the first gateway is killed with
 * SIGKILL, messages go to its users during the outage, and its clients reconnect to the surviving gateway with
 * their cursors and `sync`, as docs/protocol.md tells a client to. Measured: kill → every affected client
 * connected and caught up (holding every message stored for its conversation), and what it cost in AWS calls,
 * DynamoDB writes and CPU per process.
 */
import { createDynamoClient } from "../runtime/aws/clients";
import { loadAwsConfig, loadTableNames } from "../runtime/contracts";
import type { LocalStack } from "../runtime/local/stack";
import { getConversations } from "../runtime/store/conversations";
import { log, sleep } from "./clock";
import {
  bodyFor,
  CONNECT_CONCURRENCY,
  mapLimit,
  newHistogram,
  nowMs,
  openParley,
  PhaseRecorder,
  withRetries,
  type ParleyFleet,
  type PhaseSink,
} from "./load";
import {
  netOfBackground,
  startMeter,
  sumAwsCalls,
  sumPeerHttp,
  type CallCounts,
  type CounterReading,
  type CpuSnapshot,
} from "./metrics";
import { summarize } from "./latency";
import type { ConnectCost, StormReport, WorkCost } from "./phase-reports";
import { callsPer, type SystemUnderTest } from "./system";
import type { PlannedMessage, Population } from "./workload";

/**
 * A new socket's own deferred work ends with the outbox's catch-up, 5 s (invalidatedStaleMs, when every peer
 * acknowledged the invalidation — the normal case) plus its margin (2 s) after `ready` (runtime/gateway/context.ts):
 * metering runs this long past the last connect so it is included.
 */
export const CONNECT_TAIL_MS = 8_000;
/** The storm gives up after this long; whoever is not caught up by then is reported as such. */
const STORM_TIMEOUT_MS = 60_000;
const STORM_TAG = "x0";
/** The quiet window measured before the connects, whose rates are subtracted as background. */
const BASELINE_MS = 6_000;

/**
 * Who is caught up when, from what the clients saw. A client is caught up once it is connected again, has its
 * `synced`, and its gap-free prefix of seqs reaches the last seq of its conversation — known once every outage
 * message of that conversation has been stored (its sender's echo carries the seq) or refused.
 */
export class StormBook {
  private readonly readyAt = new Map<number, number>();
  private readonly syncedAt = new Map<number, number>();
  /** Per client: when its gap-free prefix reached each new length, ascending. */
  private readonly progress = new Map<number, [number, number][]>();
  private readonly target = new Map<number, number>();
  private readonly pending = new Map<number, number>();

  constructor(
    readonly affected: readonly number[],
    private readonly conversationOf: readonly number[],
    outageMessages: ReadonlyMap<number, number>,
    contiguousAtKill: (client: number) => number,
    readonly killedAt: number,
  ) {
    for (const [conversation, n] of outageMessages) this.pending.set(conversation, n);
    for (const c of affected) this.progress.set(c, [[contiguousAtKill(c), killedAt]]);
  }

  disconnected(client: number): void {
    this.readyAt.delete(client);
    this.syncedAt.delete(client);
  }

  reconnected(client: number, at: number): void {
    this.readyAt.set(client, at);
  }

  synced(client: number, at: number): void {
    if (this.readyAt.has(client)) this.syncedAt.set(client, at);
  }

  advanced(client: number, contiguous: number, at: number): void {
    const p = this.progress.get(client);
    if (p && contiguous > p[p.length - 1]![0]) p.push([contiguous, at]);
  }

  /** An outage message of `conversation` was stored as `seq`. */
  stored(conversation: number, seq: number): void {
    this.target.set(conversation, Math.max(seq, this.target.get(conversation) ?? 0));
    this.pending.set(conversation, (this.pending.get(conversation) ?? 1) - 1);
  }

  /** An outage message of `conversation` was refused: it will not be stored. */
  refused(conversation: number): void {
    this.pending.set(conversation, (this.pending.get(conversation) ?? 1) - 1);
  }

  readyTime(client: number): number | undefined {
    return this.readyAt.get(client);
  }

  caughtUpAt(client: number): number | undefined {
    const conversation = this.conversationOf[client]!;
    const ready = this.readyAt.get(client);
    const synced = this.syncedAt.get(client);
    if (ready === undefined || synced === undefined || (this.pending.get(conversation) ?? 0) > 0) return undefined;
    const target = this.target.get(conversation) ?? 0;
    const reached = this.progress.get(client)?.find(([n]) => n >= target);
    return reached ? Math.max(ready, synced, reached[1]) : undefined;
  }

  /** When the last affected client was caught up; undefined while any is not. */
  settledAt(): number | undefined {
    let last = this.killedAt;
    for (const c of this.affected) {
      const t = this.caughtUpAt(c);
      if (t === undefined) return undefined;
      last = Math.max(last, t);
    }
    return last;
  }
}

const isDynamoWrite = (descriptor: string) => descriptor.startsWith("write|");

/**
 * Calls, writes and CPU of `reading`/`cpu` minus the background rate over `seconds` (never below 0), divided by
 * `units`.
 * `idle.cores` is CPU cores per process while idle.
 */
export function workCost(
  reading: CounterReading,
  idle: { seconds: number; counters: CounterReading; cores?: Record<string, number> } | undefined,
  seconds: number,
  units: number,
  cpu: CpuSnapshot,
): WorkCost {
  const net = (after: CallCounts, idleCounts: CallCounts | undefined): CallCounts =>
    netOfBackground(after, idleCounts, idle?.seconds ?? 0, seconds);
  const calls = callsPer(net(reading.calls, idle?.counters.calls), units);
  const billing = net(reading.billing, idle?.counters.billing);
  const dynamoWrites: Record<string, number> = {};
  for (const ops of Object.values(billing)) {
    for (const [d, n] of Object.entries(ops)) {
      if (!isDynamoWrite(d)) continue;
      const [, call, table] = d.split("|");
      dynamoWrites[`${call} ${table}`] = (dynamoWrites[`${call} ${table}`] ?? 0) + n / Math.max(1, units);
    }
  }
  const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
  return {
    calls,
    callsTotal: sumAwsCalls(calls),
    peerHttpTotal: sumPeerHttp(calls),
    dynamoWrites,
    dynamoWritesTotal: sum(dynamoWrites),
    cpuMs: Object.fromEntries(
      Object.entries(cpu).map(([k, v]) => [
        k,
        (Math.max(0, v - (idle?.cores?.[k] ?? 0) * seconds) * 1000) / Math.max(1, units),
      ]),
    ),
  };
}

export interface StormContext {
  readonly stack: LocalStack;
  readonly sut: SystemUnderTest;
  readonly fleet: ParleyFleet;
  readonly pop: Population;
  readonly tokens: readonly string[];
  readonly sink: PhaseSink;
  readonly bodyBytes: number;
}

/** Background calls and CPU (polls, heartbeats, reaper passes) over a quiet window, for workCost to subtract. */
export interface Baseline {
  readonly seconds: number;
  readonly counters: CounterReading;
  readonly cores: Record<string, number>;
}

/**
 * The same processes doing nothing the harness asked for, just before the work is measured. Not the run's idle
 * window: that one follows the connect-all, so it holds every socket's deferred catch-up and would be subtracted
 * from the connects as if it were background.
 */
export async function measureBaseline(sut: SystemUnderTest): Promise<Baseline> {
  const meter = await startMeter(sut.processes());
  const t = nowMs();
  await sleep(BASELINE_MS);
  const { cpu, ...counters } = await meter.read();
  const seconds = (nowMs() - t) / 1000;
  return { seconds, counters, cores: Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, v / seconds])) };
}

const gatewayUrlOf = (ctx: StormContext, client: number) =>
  ctx.stack.gateways[ctx.pop.gatewayOf[client]! % ctx.stack.gateways.length]!.url;

/**
 * A tenth of the clients (at least 10), spread over the population so every conversation size is in it,
 * disconnect; once that has settled (a baseline is measured meanwhile) they connect again, CONNECT_CONCURRENCY at a time.
 * Metered from the first connect until CONNECT_TAIL_MS after the last `ready`, net of the baseline's rates.
 */
export async function measureConnectCost(ctx: StormContext): Promise<{ cost: ConnectCost; baseline: Baseline }> {
  const { pop, fleet, sut } = ctx;
  const n = Math.min(pop.clients, Math.max(10, Math.round(pop.clients / 10)));
  const sample = spreadSample(pop.clients, n, ctx.stack.gateways.length);
  await Promise.all(sample.map((i) => fleet.close({ from: i, to: i + 1 })));
  await sleep(1_500);
  const baseline = await measureBaseline(sut);
  const meter = await startMeter(sut.processes());
  const t = nowMs();
  const retries = { count: 0 };
  await mapLimit(sample, CONNECT_CONCURRENCY, (i) =>
    withRetries(`client ${i}`, retries, () => openParley(fleet, ctx.sink, i, gatewayUrlOf(ctx, i), ctx.tokens[i]!)),
  );
  const seconds = (nowMs() - t) / 1000;
  await sleep(CONNECT_TAIL_MS);
  const { cpu, ...reading } = await meter.read();
  const windowS = (nowMs() - t) / 1000;
  const cost = workCost(reading, baseline, windowS, n, cpu);
  log(
    `connect cost: ${n} connects in ${seconds.toFixed(2)} s; per connect ${cost.callsTotal.toFixed(1)} AWS calls ` +
      `(${cost.dynamoWritesTotal.toFixed(2)} DynamoDB writes), CPU ms ${JSON.stringify(roundAll(cost.cpuMs))}`,
  );
  return { cost: { connects: n, seconds, windowS, ...cost }, baseline };
}

/**
 * `n` clients spread evenly over [0, clients), the k-th moved to gateway k mod `gateways` (client i is on gateway
 * i mod gateways), so the sample covers every conversation size and every gateway alike.
 */
export function spreadSample(clients: number, n: number, gateways: number): number[] {
  const out = new Set<number>();
  for (let k = 0; k < n; k++) {
    const base = Math.floor((k * clients) / n);
    out.add(Math.min(clients - 1, base + ((((k - base) % gateways) + gateways) % gateways)));
  }
  return [...out];
}

const roundAll = (r: Record<string, number>) =>
  Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Math.round(v * 10) / 10]));

/** One outage message per conversation, from its first member on a surviving gateway, all due at once. */
export function planOutage(pop: Population, gateways: number, killed: number): PlannedMessage[] {
  return pop.conversations.flatMap((c) => {
    const sender = c.members.find((m) => pop.gatewayOf[m]! % gateways !== killed);
    return sender === undefined ? [] : [{ conversation: c.index, sender, senderSeq: 1, dueMs: 0 }];
  });
}

/** The connect cost, then the storm. Kills the first gateway for good: run it last. */
export async function runStorm(ctx: StormContext): Promise<StormReport> {
  const { stack, pop, fleet, sut, sink } = ctx;
  if (stack.gateways.length < 2) throw new Error("the reconnect storm needs at least 2 gateways");
  const { cost: connect, baseline } = await measureConnectCost(ctx);
  await sleep(1_000);

  const victim = stack.gateways[0]!;
  const survivors = stack.gateways.slice(1);
  const n = stack.gateways.length;
  const affected = Array.from({ length: pop.clients }, (_, i) => i).filter((i) => pop.gatewayOf[i]! % n === 0);
  const affectedSet = new Set(affected);
  const plan = planOutage(pop, n, 0);
  const perConversation = new Map<number, number>();
  for (const p of plan) perConversation.set(p.conversation, (perConversation.get(p.conversation) ?? 0) + 1);
  const recorder = new PhaseRecorder(STORM_TAG, pop, plan);
  sink.register(recorder);

  const meter = await startMeter(sut.processes());
  const killedAt = nowMs();
  const book = new StormBook(affected, pop.conversationOf, perConversation, (i) => fleet.seqs[i]!.contiguous, killedAt);
  const storedSeen = new Set<number>();
  const messageIndex = (body: string | undefined, prefix: string) =>
    body?.startsWith(prefix) ? Number(body.slice(prefix.length).split(/[|-]/)[0]) : -1;
  fleet.onFrame = (i, f) => {
    const t = nowMs();
    if (f.type === "message" || f.type === "event") {
      const m = f.type === "message" ? messageIndex(f.body, `${STORM_TAG}|`) : -1;
      if (m >= 0 && plan[m]?.sender === i && !storedSeen.has(m)) {
        storedSeen.add(m);
        book.stored(plan[m].conversation, f.seq!);
      }
      // An event (after --mix) fills the gap-free prefix as a message does.
      if (affectedSet.has(i)) book.advanced(i, fleet.seqs[i]!.contiguous, t);
    } else if (f.type === "synced") book.synced(i, t);
    else if (f.type === "error") {
      const m = messageIndex(f.ref?.clientMessageId, `${STORM_TAG}-`);
      if (m >= 0 && plan[m] && !storedSeen.has(m)) {
        storedSeen.add(m);
        book.refused(plan[m].conversation);
      }
    }
  };
  const retries = { count: 0 };
  let failed = 0;
  const reconnecting = new Set<number>();
  const reconnect = async (i: number) => {
    reconnecting.add(i);
    book.disconnected(i);
    try {
      const ws = await withRetries(`client ${i}`, retries, () =>
        openParley(fleet, sink, i, survivors[i % survivors.length]!.url, ctx.tokens[i]!),
      );
      book.reconnected(i, nowMs());
      fleet.dedupeBySeq[i] = 1;
      const cursor = {
        conversationId: pop.conversations[pop.conversationOf[i]!]!.id,
        afterSeq: fleet.seqs[i]!.contiguous,
      };
      ws.send(JSON.stringify({ type: "sync", cursors: [cursor] }));
    } catch (err) {
      failed++;
      log(`storm: client ${i} did not reconnect: ${String(err)}`);
    } finally {
      reconnecting.delete(i);
    }
  };
  fleet.onClose = (i) => {
    if (affectedSet.has(i) && !reconnecting.has(i)) void reconnect(i);
  };

  log(`storm: SIGKILL ${victim.id} (${affected.length} clients on it); ${plan.length} messages during the outage`);
  await victim.process.kill();
  recorder.startedAt = killedAt;
  for (const [m, p] of plan.entries()) {
    const conversation = pop.conversations[p.conversation]!;
    sut.clients!.send(p.sender, conversation.id, `${STORM_TAG}-${m}`, bodyFor(STORM_TAG, m, killedAt, ctx.bodyBytes));
    recorder.sent++;
  }

  let lastProgress = nowMs();
  while (book.settledAt() === undefined && nowMs() - killedAt < STORM_TIMEOUT_MS) {
    await sleep(20);
    if (nowMs() - lastProgress > 2_000) {
      lastProgress = nowMs();
      const ready = affected.filter((i) => book.readyTime(i) !== undefined).length;
      const caughtUp = affected.filter((i) => book.caughtUpAt(i) !== undefined).length;
      log(
        `storm t=${((lastProgress - killedAt) / 1000).toFixed(0)}s ready ${ready}/${affected.length}, caught up ${caughtUp}`,
      );
    }
  }
  const settledAt = book.settledAt();
  const readyTimes = affected.map((i) => book.readyTime(i)).filter((t): t is number => t !== undefined);
  const lastReady = readyTimes.length ? Math.max(...readyTimes) : killedAt;
  // The last connects' deferred catch-up is part of what the storm costs.
  const tailUntil = lastReady + CONNECT_TAIL_MS;
  while (nowMs() < tailUntil || (recorder.delivered < recorder.expected && nowMs() - killedAt < STORM_TIMEOUT_MS)) {
    await sleep(50);
  }
  const { cpu, ...reading } = await meter.read();
  const windowS = (nowMs() - killedAt) / 1000;
  fleet.onClose = undefined;
  fleet.onFrame = undefined;
  sink.current = undefined;

  const behindTable = await clientsBehindTable(ctx, affected);
  const readyH = newHistogram();
  const caughtUpH = newHistogram();
  for (const i of affected) {
    const r = book.readyTime(i);
    const c = book.caughtUpAt(i);
    if (r !== undefined) readyH.recordValue(Math.max(1, Math.round((r - killedAt) * 1000)));
    if (c !== undefined) caughtUpH.recordValue(Math.max(1, Math.round((c - killedAt) * 1000)));
  }
  const reconnected = readyTimes.length;
  const r = recorder.result();
  const report: StormReport = {
    killed: victim.id,
    survivors: survivors.map((g) => g.id),
    affected: affected.length,
    reconnected,
    reconnectRetries: retries.count,
    failedReconnects: failed,
    reconnectedMs: reconnected === affected.length ? lastReady - killedAt : null,
    settledMs: settledAt === undefined ? null : settledAt - killedAt,
    perClient: { ready: summarize(readyH), caughtUp: summarize(caughtUpH) },
    notCaughtUp: affected.length - caughtUpH.totalCount,
    behindTable,
    outage: {
      sent: r.sent,
      accepted: r.accepted,
      expected: r.expected,
      delivered: r.delivered,
      duplicates: r.duplicates,
      orderViolations: r.orderViolations,
      syncRepeats: fleet.repeats,
      errors: r.errors,
      latency: summarize(r.histograms.e2e),
    },
    windowS,
    cpuSeconds: cpu,
    perReconnectedClient: workCost(reading, baseline, windowS, Math.max(1, reconnected), cpu),
    totals: { calls: reading.calls, dynamoWrites: workCost(reading, undefined, windowS, 1, cpu).dynamoWrites },
    connect,
  };
  log(
    `storm: reconnected ${reconnected}/${affected.length} in ${report.reconnectedMs?.toFixed(0) ?? "–"} ms, ` +
      `settled in ${report.settledMs?.toFixed(0) ?? "–"} ms; outage messages delivered ${r.delivered}/${r.expected}; ` +
      `per reconnected client ${report.perReconnectedClient.callsTotal.toFixed(1)} AWS calls, ` +
      `${report.perReconnectedClient.dynamoWritesTotal.toFixed(2)} DynamoDB writes; behind the table ${behindTable}`,
  );
  return report;
}

/** Affected clients whose gap-free prefix is below their conversation's lastSeq in the table (harness reads). */
async function clientsBehindTable(ctx: StormContext, affected: readonly number[]): Promise<number> {
  const e = ctx.stack.gatewayBaseEnv;
  const db = { ddb: createDynamoClient(loadAwsConfig(e)), tables: loadTableNames(e) };
  try {
    const ids = [...new Set(affected.map((i) => ctx.pop.conversations[ctx.pop.conversationOf[i]!]!.id))];
    const lastSeq = new Map((await getConversations(db, ids, true)).map((c) => [c.conversationId, c.lastSeq]));
    return affected.filter((i) => {
      const id = ctx.pop.conversations[ctx.pop.conversationOf[i]!]!.id;
      return ctx.fleet.seqs[i]!.contiguous < (lastSeq.get(id) ?? 0);
    }).length;
  } finally {
    db.ddb.destroy();
  }
}
