/**
 * The open-loop load generator and its recorder. Messages leave at fixed intended times whatever the system
 * does; each body carries its intended send time, so latency is measured from when the message *should* have
 * left (no coordinated omission), into HDR histograms (microseconds).
 */
import * as hdr from "hdr-histogram-js";
import { io, type Socket } from "socket.io-client";
import WebSocket from "ws";
import type { PlannedMessage, Population } from "./workload";
import { sleep } from "../runtime/gateway/util";

/** Wall-clock epoch milliseconds with sub-millisecond resolution (one clock for every process on the host). */
export const nowMs = (): number => performance.timeOrigin + performance.now();

export type Histogram = hdr.Histogram;
export const newHistogram = (): Histogram =>
  hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 });

/** Parley's server stamps on a delivered message (absent for the baselines). */
export interface ServerStamps {
  readonly seq: number;
  readonly sentAt: number;
  readonly storedAt: number;
}

/** Where adapters report what their sockets receive; the current phase's recorder sits behind it. */
export interface Sink {
  onMessage(receiver: number, senderId: string, body: string, stamps?: ServerStamps): void;
  onAccepted(sender: number, clientMessageId: string): void;
  /**
   * `clientMessageId` (from the error frame's ref) attributes the error to its phase; `refType` is the refused
   * frame's type (a `read` has no clientMessageId).
   */
  onError(sender: number, code: string, clientMessageId?: string, refType?: string): void;
  /** A Parley `event` frame: a log entry other than a message (edit, react …), tagged by its clientMessageId. */
  onEvent?(receiver: number, frame: ParleyFrame): void;
  /** A Parley `read` receipt: `userId` has read up to `seq` (the reader gets its own too). */
  onReceipt?(receiver: number, userId: string, seq: number): void;
}

/** A phase's recorder as PhaseSink routes to it: by the tag its bodies and clientMessageIds start with. */
export interface TaggedSink extends Sink {
  readonly tag: string;
}

/** One system's connected clients. */
export interface SystemClients {
  readonly system: string;
  /** Connection attempts that failed and were retried (a real client reconnects the same way). */
  readonly connectRetries?: number;
  send(sender: number, conversationId: string, clientMessageId: string, body: string): void;
  close(): Promise<void>;
}

export function bodyFor(tag: string, m: number, intended: number, bodyBytes: number): string {
  const head = `${tag}|${m}|${intended.toFixed(3)}|`;
  return head + "x".repeat(Math.max(1, bodyBytes - head.length));
}

export interface PhaseResult {
  readonly sent: number;
  readonly expected: number;
  /** Delivered by the end of the run, however late. */
  readonly delivered: number;
  /** Delivered before the drain window after the last send closed. */
  readonly deliveredInWindow: number;
  /** End-to-end p99 (ms) as it stood when the drain window closed. */
  readonly p99InWindowMs: number;
  readonly duplicates: number;
  readonly orderViolations: number;
  readonly errors: Record<string, number>;
  readonly accepted: number;
  /** Seconds from the first intended send to the end of the drain window. */
  readonly windowS: number;
  /** Seconds from the first intended send until deliveries stopped (CPU is metered over this span). */
  readonly meteredS: number;
  readonly histograms: {
    e2e: Histogram;
    accept?: Histogram;
    acceptedToStored?: Histogram;
    storedToDelivered?: Histogram;
  };
}

/** Counts and times deliveries of one phase; rejects strays, duplicates and reorderings explicitly. */
export class PhaseRecorder implements TaggedSink {
  readonly e2e = newHistogram();
  readonly accept = newHistogram();
  readonly acceptedToStored = newHistogram();
  readonly storedToDelivered = newHistogram();
  private readonly received: Uint16Array;
  private readonly seen = new Set<number>();
  private readonly lastSenderSeq = new Map<number, number>();
  private readonly lastConversationSeq = new Map<number, number>();
  private readonly stampedStored: Uint8Array;
  delivered = 0;
  duplicates = 0;
  orderViolations = 0;
  strays = 0;
  echoes = 0;
  acceptedCount = 0;
  sent = 0;
  readonly errors: Record<string, number> = {};
  readonly expected: number;
  startedAt = 0;
  deliveredInWindow = 0;
  p99InWindowMs = 0;
  windowS = 0;
  meteredS = 0;
  /** When the last counted delivery arrived (epoch ms; 0 before the first). */
  lastDeliveryAt = 0;

  constructor(
    readonly tag: string,
    private readonly pop: Population,
    readonly plan: readonly PlannedMessage[],
  ) {
    this.received = new Uint16Array(plan.length);
    this.stampedStored = new Uint8Array(plan.length);
    this.expected = plan.reduce((n, p) => n + pop.conversations[p.conversation]!.size - 1, 0);
  }

  onMessage(receiver: number, _senderId: string, body: string, stamps?: ServerStamps): void {
    const t = nowMs();
    const a = body.indexOf("|");
    const b = body.indexOf("|", a + 1);
    const c = body.indexOf("|", b + 1);
    if (a < 0 || b < 0 || c < 0 || body.slice(0, a) !== this.tag) {
      this.strays++;
      return;
    }
    const m = Number(body.slice(a + 1, b));
    const intended = Number(body.slice(b + 1, c));
    const p = this.plan[m];
    if (!p) {
      this.strays++;
      return;
    }
    if (receiver === p.sender) {
      this.echoes++;
      return;
    }
    const key = m * 131072 + receiver;
    if (this.seen.has(key)) {
      this.duplicates++;
      return;
    }
    this.seen.add(key);
    this.received[m]!++;
    this.delivered++;
    this.lastDeliveryAt = t;
    this.e2e.recordValue(Math.max(1, Math.round((t - intended) * 1000)));
    const orderKey = receiver * 131072 + p.sender;
    const last = this.lastSenderSeq.get(orderKey) ?? 0;
    if (p.senderSeq < last) this.orderViolations++;
    else this.lastSenderSeq.set(orderKey, p.senderSeq);
    if (stamps) {
      // Each receiver holds one conversation, so its Parley seqs must only go up.
      const lastSeq = this.lastConversationSeq.get(receiver) ?? 0;
      if (stamps.seq < lastSeq) this.orderViolations++;
      else this.lastConversationSeq.set(receiver, stamps.seq);
      this.storedToDelivered.recordValue(Math.max(1, Math.round((t - stamps.storedAt) * 1000)));
      if (!this.stampedStored[m]) {
        this.stampedStored[m] = 1;
        this.acceptedToStored.recordValue(Math.max(1, Math.round((stamps.storedAt - stamps.sentAt) * 1000)));
      }
    }
  }

  onAccepted(_sender: number, clientMessageId: string): void {
    const dash = clientMessageId.indexOf("-");
    if (clientMessageId.slice(0, dash) !== this.tag) return;
    const p = this.plan[Number(clientMessageId.slice(dash + 1))];
    if (!p) return;
    this.acceptedCount++;
    this.accept.recordValue(Math.max(1, Math.round((nowMs() - (this.startedAt + p.dueMs)) * 1000)));
  }

  onError(_sender: number, code: string): void {
    this.errors[code] = (this.errors[code] ?? 0) + 1;
  }

  /** The phase as it stands now; late deliveries keep counting until the run ends. */
  result(): PhaseResult {
    const stamped = this.acceptedToStored.totalCount > 0 || this.acceptedCount > 0;
    return {
      sent: this.sent,
      expected: this.expected,
      delivered: this.delivered,
      deliveredInWindow: this.deliveredInWindow,
      p99InWindowMs: this.p99InWindowMs,
      duplicates: this.duplicates,
      orderViolations: this.orderViolations,
      errors: this.errors,
      accepted: this.acceptedCount,
      windowS: this.windowS,
      meteredS: this.meteredS,
      histograms: stamped
        ? {
            e2e: this.e2e,
            accept: this.accept,
            acceptedToStored: this.acceptedToStored,
            storedToDelivered: this.storedToDelivered,
          }
        : { e2e: this.e2e },
    };
  }
}

/**
 * Routes each delivery to the phase its body is tagged with, so a message that arrives after its phase ended
 * still counts for that phase (late, not lost); untagged or unknown ones are strays.
 */
export class PhaseSink implements Sink {
  private readonly phases = new Map<string, TaggedSink>();
  strays = 0;
  /** Errors and closes seen outside any phase (e.g. while idle). */
  readonly idleErrors: Record<string, number> = {};
  current?: TaggedSink;

  register(recorder: TaggedSink): void {
    this.phases.set(recorder.tag, recorder);
    this.current = recorder;
  }

  onMessage(receiver: number, senderId: string, body: string, stamps?: ServerStamps): void {
    const r = this.phases.get(body.slice(0, body.indexOf("|")));
    if (r) r.onMessage(receiver, senderId, body, stamps);
    else this.strays++;
  }

  onAccepted(sender: number, clientMessageId: string): void {
    this.phases.get(clientMessageId.slice(0, clientMessageId.indexOf("-")))?.onAccepted(sender, clientMessageId);
  }

  onError(sender: number, code: string, clientMessageId?: string, refType?: string): void {
    const tagged = clientMessageId
      ? this.phases.get(clientMessageId.slice(0, clientMessageId.indexOf("-")))
      : undefined;
    if (tagged) tagged.onError(sender, code, clientMessageId, refType);
    else if (this.current) this.current.onError(sender, code, clientMessageId, refType);
    else this.idleErrors[code] = (this.idleErrors[code] ?? 0) + 1;
  }

  onEvent(receiver: number, frame: ParleyFrame): void {
    const id = frame.clientMessageId ?? "";
    const r = this.phases.get(id.slice(0, id.indexOf("-")));
    if (r?.onEvent) r.onEvent(receiver, frame);
    else this.strays++;
  }

  /** Receipts carry no tag: they belong to the phase running now (none outside the mixed workload). */
  onReceipt(receiver: number, userId: string, seq: number): void {
    this.current?.onReceipt?.(receiver, userId, seq);
  }
}

/**
 * Calls `send(i)` for each i once `dueMs[i]` ms have passed since `start` (open loop): a 1 ms timer sends
 * everything that is due, so a stalled event loop sends late — and the lateness shows up in the latency, as it
 * would for a real user. `tick` runs after each round of sends.
 */
export function sendOpenLoop(
  start: number,
  dueMs: readonly number[],
  send: (i: number) => void,
  tick: () => void,
): Promise<void> {
  let i = 0;
  return new Promise<void>((resolve) => {
    const step = () => {
      const elapsed = nowMs() - start;
      while (i < dueMs.length && dueMs[i]! <= elapsed) send(i++);
      tick();
      if (i >= dueMs.length) resolve();
      else setTimeout(step, Math.min(1, Math.max(0, dueMs[i]! - elapsed)));
    };
    setTimeout(step, Math.max(0, start - nowMs()));
  });
}

/**
 * After a phase's last send: waits up to `drainMs` for every expected delivery (the window; `windowClosed` runs
 * when it ends), then — a backlog still draining belongs to the phase's cost — keeps waiting while deliveries
 * still arrive, until none came for `settleQuietMs` (default 1.5 s) or `settleMaxMs` passed.
 */
export async function drainAndSettle(
  counts: { delivered(): number; expected(): number },
  opts: Pick<DriveOptions, "drainMs" | "settleMaxMs" | "settleQuietMs">,
  progress: () => void,
  windowClosed: () => void,
): Promise<void> {
  const drainUntil = nowMs() + opts.drainMs;
  while (counts.delivered() < counts.expected() && nowMs() < drainUntil) {
    await sleep(20);
    progress();
  }
  windowClosed();
  const settleUntil = nowMs() + opts.settleMaxMs;
  let lastCount = counts.delivered();
  let lastChange = nowMs();
  while (
    counts.delivered() < counts.expected() &&
    nowMs() < settleUntil &&
    nowMs() - lastChange < (opts.settleQuietMs ?? 1_500)
  ) {
    await sleep(100);
    if (counts.delivered() !== lastCount) {
      lastCount = counts.delivered();
      lastChange = nowMs();
    }
    progress();
  }
}

export interface DriveOptions {
  readonly bodyBytes: number;
  /** Longest wait for stragglers after the last send. */
  readonly drainMs: number;
  /** After the drain window, keep metering while deliveries still trickle in (a backlog), up to this long. */
  readonly settleMaxMs: number;
  /** …and stop metering once nothing arrived for this long (default 1.5 s). */
  readonly settleQuietMs?: number;
  readonly progress?: (line: string) => void;
  readonly label: string;
}

/** Sends the plan open-loop (sendOpenLoop), then drains and settles (drainAndSettle). */
export async function drivePhase(
  clients: SystemClients,
  pop: Population,
  recorder: PhaseRecorder,
  opts: DriveOptions,
): Promise<PhaseResult> {
  const plan = recorder.plan;
  const start = nowMs() + 20;
  recorder.startedAt = start;
  let lastProgress = start;
  const progress = () => {
    const t = nowMs();
    if (!opts.progress || t - lastProgress < 2_000) return;
    lastProgress = t;
    const p99 = recorder.e2e.totalCount ? (recorder.e2e.getValueAtPercentile(99) / 1000).toFixed(1) : "-";
    opts.progress(
      `${opts.label} t=${((t - start) / 1000).toFixed(0)}s sent=${recorder.sent}/${plan.length} ` +
        `delivered=${recorder.delivered}/${recorder.expected} p99=${p99}ms`,
    );
  };
  const send = (i: number) => {
    const p = plan[i]!;
    const conv = pop.conversations[p.conversation]!;
    clients.send(p.sender, conv.id, `${recorder.tag}-${i}`, bodyFor(recorder.tag, i, start + p.dueMs, opts.bodyBytes));
    recorder.sent++;
  };
  await sendOpenLoop(
    start,
    plan.map((p) => p.dueMs),
    send,
    progress,
  );
  await drainAndSettle(
    { delivered: () => recorder.delivered, expected: () => recorder.expected },
    opts,
    progress,
    () => {
      recorder.deliveredInWindow = recorder.delivered;
      recorder.p99InWindowMs = recorder.e2e.totalCount ? recorder.e2e.getValueAtPercentile(99) / 1000 : 0;
      recorder.windowS = (nowMs() - start) / 1000;
    },
  );
  recorder.meteredS = (nowMs() - start) / 1000;
  return recorder.result();
}

/** Runs `fn` over items with at most `limit` in flight. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (t: T, i: number) => Promise<R>) {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!, i);
      }
    }),
  );
  return out;
}

type Frame = Record<string, unknown> & { type?: string };

/** Retries like a reconnecting client: up to 5 more attempts with growing, jittered backoff. */
export async function withRetries<T>(what: string, retries: { count: number }, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= 5) throw new Error(`${what}: gave up after ${attempt + 1} attempts: ${String(err)}`);
      retries.count++;
      await sleep(200 * 2 ** attempt * (0.5 + Math.random()));
    }
  }
}

/**
 * Opens a socket and resolves once the server's first `readyType` frame arrives. The frame handler is installed
 * before the handshake completes: a server that sends its first frame together with the 101 response would
 * otherwise have it emitted before anyone listens.
 */
function openWs(
  url: string,
  protocols: string[] | undefined,
  origin: string | undefined,
  readyType: string,
  onFrame: (f: Frame) => void,
  timeoutMs = 30_000,
): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { perMessageDeflate: false, ...(origin ? { origin } : {}) });
    let ready = false;
    const timer = setTimeout(() => fail(new Error(`${url}: no ${readyType} frame within ${timeoutMs} ms`)), timeoutMs);
    const fail = (err: unknown) => {
      clearTimeout(timer);
      if (!ready) ws.terminate();
      reject(err instanceof Error ? err : new Error(String(err)));
    };
    ws.once("error", fail);
    ws.once("unexpected-response", (_req, res) => fail(new Error(`${url}: HTTP ${res.statusCode}`)));
    ws.once("close", (code) => {
      if (!ready) fail(new Error(`${url}: closed (${code}) before ${readyType}`));
    });
    ws.on("message", (data) => {
      const f = JSON.parse(data.toString()) as Frame;
      if (ready) return onFrame(f);
      if (f.type === readyType) {
        ready = true;
        clearTimeout(timer);
        ws.off("error", fail);
        ws.on("error", () => undefined);
        resolve(ws);
      } else if (f.type === "error") fail(new Error(`server error before ${readyType}: ${JSON.stringify(f)}`));
    });
  });
}

async function closeAll(sockets: readonly WebSocket[]): Promise<void> {
  await Promise.all(
    sockets.map(
      (ws) =>
        new Promise<void>((resolve) => {
          if (ws.readyState === ws.CLOSED) return resolve();
          ws.once("close", () => resolve());
          ws.close(1000);
          setTimeout(() => {
            ws.terminate();
            resolve();
          }, 2_000).unref();
        }),
    ),
  );
}

export interface ParleyTarget {
  readonly gatewayUrls: readonly string[];
  readonly tokens: readonly string[];
}

/** Clients [from, to) of the population: connecting in two halves measures the marginal memory per connection. */
export interface ClientRange {
  readonly from: number;
  readonly to: number;
}

/**
 * The seqs one client has of its conversation: the longest gap-free prefix and the ones received above it. The
 * prefix is the cursor a reconnecting client syncs from (every bench client is in exactly one conversation).
 */
export class SeqTracker {
  contiguous = 0;
  private readonly above = new Set<number>();

  /** Records `seq`; false when the client already had it. */
  add(seq: number): boolean {
    if (seq <= this.contiguous || this.above.has(seq)) return false;
    this.above.add(seq);
    while (this.above.delete(this.contiguous + 1)) this.contiguous++;
    return true;
  }
}

/** The frames a Parley bench client reads (docs/protocol.md). */
export interface ParleyFrame {
  readonly type: string;
  readonly conversationId?: string;
  readonly senderId?: string;
  readonly body?: string;
  readonly seq?: number;
  readonly sentAt?: number;
  readonly storedAt?: number;
  readonly clientMessageId?: string;
  /** `event`: which entry (edit, react, …) and the seq of the message it changes. */
  readonly kind?: string;
  readonly target?: number;
  /** `message`: a tombstone. */
  readonly deleted?: boolean;
  /** `read`: who read. */
  readonly userId?: string;
  readonly code?: string;
  readonly ref?: { clientMessageId?: string; type?: string };
}

/**
 * Every Parley client's current socket and the seqs it has, shared by whoever connects them (the two halves, the
 * storm's reconnects), with the hooks the storm listens on.
 */
export class ParleyFleet {
  readonly sockets: (WebSocket | undefined)[];
  readonly seqs: SeqTracker[];
  /**
   * Clients that drop a seq they already have, as a real client does (dedupe by seq): set for sockets opened by
   * a reconnect, whose `sync` may repeat what the client had. Elsewhere a repeated seq counts as a duplicate.
   */
  readonly dedupeBySeq: Uint8Array;
  /** Seqs dropped that way. */
  repeats = 0;
  /** Every frame after `ready`, before the sink sees it (a `message` after its seq was recorded). */
  onFrame?: (client: number, frame: ParleyFrame) => void;
  /** A socket closed without the harness closing it. */
  onClose?: (client: number, code: number) => void;

  constructor(clients: number) {
    this.sockets = new Array<WebSocket | undefined>(clients);
    this.seqs = Array.from({ length: clients }, () => new SeqTracker());
    this.dedupeBySeq = new Uint8Array(clients);
  }

  /** Closes clients [from, to) on purpose (no `onClose`). */
  close(range: ClientRange = { from: 0, to: this.sockets.length }): Promise<void> {
    const sockets = present(this.sockets.slice(range.from, range.to));
    for (const ws of sockets) ws.removeAllListeners("close");
    return closeAll(sockets);
  }
}

/**
 * Parley clients: the real subprotocol auth, `ready`, then `send` frames (and the mixed workload's `react`,
 * `edit`, `read`); `message`/`event`/`accepted`/`read`/`error` back. A message and an event are both entries of
 * the conversation's log with a seq of its own, so both count for the client's gap-free prefix.
 */
export function openParley(
  fleet: ParleyFleet,
  sink: Sink,
  client: number,
  gatewayUrl: string,
  token: string,
): Promise<WebSocket> {
  const url = gatewayUrl.replace(/^http/, "ws") + "/ws";
  const onFrame = (frame: Frame) => {
    const f = frame as unknown as ParleyFrame;
    if (f.type === "message" || f.type === "event") {
      const fresh = fleet.seqs[client]!.add(f.seq!);
      fleet.onFrame?.(client, f);
      if (!fresh && fleet.dedupeBySeq[client]) {
        fleet.repeats++;
        return;
      }
      if (f.type === "event") sink.onEvent?.(client, f);
      else sink.onMessage(client, f.senderId!, f.body!, { seq: f.seq!, sentAt: f.sentAt!, storedAt: f.storedAt! });
      return;
    }
    fleet.onFrame?.(client, f);
    if (f.type === "accepted") sink.onAccepted(client, f.clientMessageId!);
    else if (f.type === "error") sink.onError(client, f.code ?? "UNKNOWN", f.ref?.clientMessageId, f.ref?.type);
    else if (f.type === "read") sink.onReceipt?.(client, f.userId!, f.seq!);
  };
  return openWs(url, ["parley.v1", "parley.auth." + token], gatewayUrl, "ready", onFrame).then((ws) => {
    ws.on("close", (code) => {
      sink.onError(client, `CLOSED_${code}`);
      fleet.onClose?.(client, code);
    });
    fleet.sockets[client] = ws;
    return ws;
  });
}

/** Connects in flight at once while a system's clients connect: one figure for every system, so "connect all" compares. */
export const CONNECT_CONCURRENCY = 32;

async function connectRange<T>(
  pop: Population,
  range: ClientRange | undefined,
  limit: number,
  open: (i: number) => Promise<T>,
): Promise<(T | undefined)[]> {
  const from = range?.from ?? 0;
  const to = range?.to ?? pop.clients;
  const out = new Array<T | undefined>(pop.clients);
  const indexes = Array.from({ length: to - from }, (_, k) => from + k);
  await mapLimit(indexes, limit, async (i) => {
    out[i] = await open(i);
  });
  return out;
}

/** One SystemClients over several ranges: each sender belongs to exactly one part. */
export function combineClients(parts: readonly SystemClients[]): SystemClients {
  return {
    system: parts[0]!.system,
    connectRetries: parts.reduce((n, p) => n + (p.connectRetries ?? 0), 0),
    send: (sender, conversationId, clientMessageId, body) => {
      for (const p of parts) p.send(sender, conversationId, clientMessageId, body);
    },
    close: async () => {
      await Promise.all(parts.map((p) => p.close()));
    },
  };
}

const present = <T>(xs: (T | undefined)[]): T[] => xs.filter((x): x is T => x !== undefined);

/** Clients [from, to) of the fleet, each on its gateway; sends go to whatever socket the client has now. */
export async function connectParley(
  pop: Population,
  target: ParleyTarget,
  sink: Sink,
  range: ClientRange = { from: 0, to: pop.clients },
  fleet: ParleyFleet = new ParleyFleet(pop.clients),
): Promise<SystemClients> {
  const retries = { count: 0 };
  await connectRange(pop, range, CONNECT_CONCURRENCY, (i) =>
    withRetries(`client ${i}`, retries, () =>
      openParley(fleet, sink, i, target.gatewayUrls[pop.gatewayOf[i]! % target.gatewayUrls.length]!, target.tokens[i]!),
    ),
  );
  return {
    system: "parley",
    connectRetries: retries.count,
    send: (sender, conversationId, clientMessageId, body) => {
      if (sender < range.from || sender >= range.to) return;
      fleet.sockets[sender]?.send(JSON.stringify({ type: "send", conversationId, clientMessageId, body }));
    },
    close: () => fleet.close(range),
  };
}

/** Plain relay clients: join by query string, `send {room, body}` → `message {room, senderId, body}`. */
export async function connectRelay(
  pop: Population,
  url: string,
  sink: Sink,
  range?: ClientRange,
): Promise<SystemClients> {
  const sockets = await connectRange(pop, range, CONNECT_CONCURRENCY, async (i) => {
    const user = pop.userIds[i]!;
    const room = pop.conversations[pop.conversationOf[i]!]!.id;
    const q = `user=${encodeURIComponent(user)}&room=${encodeURIComponent(room)}`;
    const ws = await openWs(`${url.replace(/^http/, "ws")}/?${q}`, undefined, undefined, "ready", (frame) => {
      const f = frame as { type: string; senderId: string; body: string };
      if (f.type === "message") sink.onMessage(i, f.senderId, f.body);
    });
    ws.on("close", (code) => sink.onError(i, `CLOSED_${code}`));
    return ws;
  });
  return {
    system: "relay",
    send: (sender, room, _id, body) => sockets[sender]?.send(JSON.stringify({ type: "send", room, body })),
    close: () => {
      for (const ws of present(sockets)) ws.removeAllListeners("close");
      return closeAll(present(sockets));
    },
  };
}

/** Socket.IO clients over the websocket transport only (no polling upgrade), rooms joined on connection. */
export async function connectSocketIo(
  pop: Population,
  url: string,
  sink: Sink,
  range?: ClientRange,
): Promise<SystemClients> {
  const sockets = await connectRange(pop, range, CONNECT_CONCURRENCY, async (i) => {
    const user = pop.userIds[i]!;
    const room = pop.conversations[pop.conversationOf[i]!]!.id;
    const s: Socket = io(url, {
      transports: ["websocket"],
      forceNew: true,
      reconnection: false,
      query: { user, room },
    });
    await new Promise<void>((resolve, reject) => {
      s.once("connect", () => resolve());
      s.once("connect_error", (err) => reject(err));
    });
    s.on("message", (f: { senderId: string; body: string }) => sink.onMessage(i, f.senderId, f.body));
    s.on("disconnect", (reason) => sink.onError(i, `DISCONNECT_${reason}`));
    return s;
  });
  return {
    system: "socketio",
    send: (sender, room, _id, body) => sockets[sender]?.emit("send", { room, body }),
    close: async () => {
      for (const s of present(sockets)) {
        s.off("disconnect");
        s.disconnect();
      }
    },
  };
}
