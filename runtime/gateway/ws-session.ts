/**
 * One WebSocket connection: frame parsing and validation, the token bucket, send → accepted (only after SQS),
 * sync, typing, read, and the outgoing side (per-conversation order, repeat suppression, slow-consumer guard).
 */
import { randomUUID } from "node:crypto";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import type WebSocket from "ws";
import type { RawData } from "ws";
import {
  clientFrameSchema,
  CLOSE_HANDSHAKE_MS,
  closeCodes,
  encodeQueueBody,
  type ClientFrame,
  type ErrorCode,
  type InboundMessage,
  type ServerFrame,
  type StoredMessage,
} from "../contracts";
import { inboundDeduplicationId } from "../aws/dedup-id";
import { permanentSqsRefusal } from "../aws/errors";
import { getConversation, getConversations } from "../store/conversations";
import { advanceLastRead, listMemberships } from "../store/memberships";
import { MAX_PAGE, pageMessages } from "../store/messages";
import type { GatewayContext } from "./context";
import type { ConnectionDirectory, MemberCache } from "./directory";
import type { Presence } from "./presence";
import type { Router } from "./routing";
import type { LocalSession, LocalSessions, MessageRef } from "./sessions";
import { errorMessage, sleep } from "./util";

/** Allowed difference between the persister's clock (storedAt) and this gateway's. */
const CLOCK_SKEW_MS = 2_000;

const knownTypes = new Set<string>(clientFrameSchema.options.map((o) => o.shape.type.value));

type ErrorRef = NonNullable<Extract<ServerFrame, { type: "error" }>["ref"]>;

/** A classic token bucket: `rate` tokens a second up to `burst`. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.last = now();
  }

  take(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.rate);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

class FrameError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface SessionDeps {
  readonly sessions: LocalSessions;
  readonly presence: Presence;
  readonly router: Router;
  readonly members: MemberCache;
  readonly directory: ConnectionDirectory;
}

export class Session implements LocalSession {
  readonly connectionId = randomUUID();
  readonly connectedAt: number;
  private readonly bucket: TokenBucket;
  private violations = 0;
  private lastViolation = 0;
  private alive = true;
  private closed = false;
  /**
   * Set when the gateway decided to close the socket once the answers it owes are out (rate-limit policy):
   * frames that arrive from then on are not read.
   */
  private closing = false;
  /**
   * Inbound frames run one at a time, so a client's sends reach the queue in the order it sent them. Every
   * answer to a frame (its result or its error, a RATE_LIMITED refusal included) is sent from this chain, so a
   * later frame's answer never overtakes an earlier one's.
   */
  private inbound: Promise<void> = Promise.resolve();
  /** Outgoing work that must stay ordered (sync pages, gap fills); live messages queue behind it. */
  private outbound: Promise<void> = Promise.resolve();
  private outboundPending = 0;
  /** Highest seq sent per conversation on this socket: later repeats are dropped, gaps filled from the table. */
  private readonly delivered = new Map<string, number>();
  private readonly lastTyping = new Map<string, number>();
  private expiryTimer?: NodeJS.Timeout;
  private killTimer?: NodeJS.Timeout;
  private catchUpTimer?: NodeJS.Timeout;
  private registered = false;
  /**
   * Frames pushed while open() is under way, sent right after `ready`: peers route to this socket as soon as its
   * record is written, which is before `ready` (docs/protocol.md promises `ready` first). Set when open() starts
   * (the server calls it right after construction), undefined once ready is sent.
   */
  private held: string[] | undefined;
  private heldBytes = 0;

  constructor(
    private readonly ctx: GatewayContext,
    private readonly deps: SessionDeps,
    private readonly ws: WebSocket,
    readonly userId: string,
    tokenExpiresAt: number,
  ) {
    this.connectedAt = ctx.now();
    this.bucket = new TokenBucket(ctx.config.limits.rateLimitPerSecond, ctx.config.limits.rateLimitBurst, ctx.now);
    ws.on("pong", () => (this.alive = true));
    ws.on("close", () => void this.onClose());
    ws.on("error", (err) => ctx.log.debug({ err: errorMessage(err), connectionId: this.connectionId }, "ws error"));
    ws.on("message", (data, isBinary) => this.onFrame(data, isBinary));
    const msLeft = tokenExpiresAt * 1000 - ctx.now();
    this.expiryTimer = setTimeout(
      () => this.close(closeCodes.authExpired, "token expired"),
      Math.max(0, Math.min(msLeft, 2 ** 31 - 1)),
    );
    this.expiryTimer.unref();
  }

  /** Registers the connection (cap, record, presence) and sends `ready`; frames that arrive meanwhile wait. */
  async open(): Promise<void> {
    this.held = [];
    const opening = (async () => {
      const admitted = await this.deps.sessions.withUserLock(this.userId, async () => {
        const live = await this.deps.directory.ofUser(this.userId, true);
        // The byUser index is eventually consistent in AWS: count this gateway's own sockets from memory too.
        const counted = new Set(live.map((c) => c.connectionId));
        for (const s of this.deps.sessions.ofUser(this.userId)) counted.add(s.connectionId);
        if (counted.size >= this.ctx.config.limits.maxConnectionsPerUser) {
          this.close(closeCodes.tooManyConnections, "too many connections");
          return false;
        }
        if (this.closed) return false;
        this.deps.sessions.add(this);
        this.registered = true;
        await this.deps.presence.connected(this, live);
        return true;
      });
      if (!admitted) return;
      // The record is written (presence.connected returned): from now on the directory TTL bounds how long a
      // peer can still route without this socket.
      this.catchUpTimer = setTimeout(
        () => this.enqueueOutbound(() => this.catchUpAfterDirectoryTtl()),
        this.ctx.settings.directoryTtlMs + this.ctx.settings.catchUpMarginMs,
      );
      this.catchUpTimer.unref();
      const held = this.held ?? [];
      this.held = undefined;
      this.send({
        type: "ready",
        connectionId: this.connectionId,
        userId: this.userId,
        gatewayId: this.ctx.gatewayId,
        heartbeatMs: this.ctx.settings.heartbeatMs,
      });
      for (const text of held) this.push(text);
    })();
    this.inbound = opening.catch((err) => {
      this.ctx.log.error({ err: errorMessage(err), connectionId: this.connectionId }, "could not open session");
      this.close(closeCodes.goingAway, "unavailable, reconnect");
    });
    await this.inbound;
  }

  /** Called by the server's heartbeat timer: a peer that did not answer the last ping is dead. */
  heartbeat(): void {
    if (!this.alive) {
      this.ws.terminate();
      return;
    }
    this.alive = false;
    this.ws.ping();
  }

  push(text: string): void {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return;
    if (this.held) {
      this.heldBytes += text.length;
      if (this.heldBytes > this.ctx.settings.slowConsumerBytes) this.close(closeCodes.slowConsumer, "slow consumer");
      else this.held.push(text);
      return;
    }
    if (this.ws.bufferedAmount > this.ctx.settings.slowConsumerBytes) {
      this.close(closeCodes.slowConsumer, "slow consumer: reconnect and sync");
      return;
    }
    this.ws.send(text);
  }

  pushMessage(ref: MessageRef, text: string): void {
    if (this.closed) return;
    // Fast path: nothing queued ahead of it and it is the next seq (seq 1 needs no cursor).
    if (this.outboundPending === 0) {
      const last = this.delivered.get(ref.conversationId) ?? (ref.seq === 1 ? 0 : undefined);
      if (last !== undefined) {
        if (ref.seq <= last) return;
        if (ref.seq === last + 1) {
          this.delivered.set(ref.conversationId, ref.seq);
          this.push(text);
          return;
        }
      }
    }
    this.enqueueOutbound(() => this.deliverInOrder(ref, text));
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.ws.close(code, reason);
    this.armKillTimer(this.ws.bufferedAmount);
  }

  /**
   * A slow or dead peer may never answer the close frame: terminate it CLOSE_HANDSHAKE_MS after the close, but not while the
   * frames sent before the close are still draining to it (terminating would discard them). A peer that stops
   * reading altogether is cut off once its buffer has made no progress for one interval.
   */
  private armKillTimer(queuedBefore: number): void {
    this.killTimer = setTimeout(() => {
      const queued = this.ws.bufferedAmount;
      if (queued > 0 && queued < queuedBefore) this.armKillTimer(queued);
      else this.ws.terminate();
    }, CLOSE_HANDSHAKE_MS);
    this.killTimer.unref();
  }

  /**
   * Runs `task` after every frame received before it has been handled and answered. The chain never rejects:
   * a failing task is logged, and the frames queued behind it still run.
   */
  private enqueueInbound(task: () => void | Promise<void>): void {
    this.inbound = this.inbound
      .then(task)
      .catch((err) => this.ctx.log.error({ err: errorMessage(err), connectionId: this.connectionId }, "frame failed"));
  }

  private send(frame: ServerFrame): void {
    this.push(JSON.stringify(frame));
  }

  private sendError(code: ErrorCode, message: string, ref?: ErrorRef): void {
    this.send({ type: "error", code, message, ...(ref ? { ref } : {}) });
  }

  private enqueueOutbound(task: () => Promise<void>): void {
    this.outboundPending++;
    this.outbound = this.outbound
      .then(task)
      .catch((err) => this.ctx.log.warn({ err: errorMessage(err), connectionId: this.connectionId }, "delivery failed"))
      .finally(() => this.outboundPending--);
  }

  /**
   * Sends a live message after filling any gap before it from the table: notifications are a standard queue
   * consumed by several gateways, so a later seq can overtake an earlier one.
   */
  private async deliverInOrder(ref: MessageRef, text: string): Promise<void> {
    const last = this.delivered.get(ref.conversationId);
    if (last !== undefined && ref.seq <= last) return;
    try {
      if (last === undefined && ref.seq > 1) {
        await this.sendStoredSinceConnect(ref);
      } else if (last !== undefined && ref.seq > last + 1) {
        await this.fillFromTable(ref.conversationId, last, ref.seq - 1);
      }
    } catch (err) {
      // Deliver the live message anyway: the client sees the seq gap and can `sync` it closed.
      this.ctx.log.warn({ err: errorMessage(err), connectionId: this.connectionId }, "gap fill failed");
    }
    this.delivered.set(ref.conversationId, Math.max(ref.seq, this.delivered.get(ref.conversationId) ?? 0));
    this.push(text);
  }

  /**
   * Sends the stored messages after seq `after` up to `upTo` in order, from a consistent read of the table, and
   * returns the highest seq sent in an unbroken run. Stops at a hole: sending past it would skip the missing seq
   * for good. A hole is retried briefly, since the persister may be just storing it.
   */
  private async fillFromTable(conversationId: string, after: number, upTo: number): Promise<number> {
    for (let attempt = 0; attempt < 3 && after < upTo && !this.closed; attempt++) {
      if (attempt) await sleep(150 * attempt);
      while (after < upTo && !this.closed) {
        const page = await pageMessages(this.ctx.db, conversationId, {
          after,
          limit: Math.min(MAX_PAGE, upTo - after),
          consistent: true,
        });
        for (const m of page.messages) {
          if (m.seq > upTo || m.seq !== after + 1) break;
          this.send({ type: "message", ...m });
          after = m.seq;
        }
        await this.drain();
        if (!page.hasMore || page.messages.length === 0 || after < (page.messages.at(-1)?.seq ?? 0)) break;
      }
    }
    return after;
  }

  /**
   * Closes the window a peer's cached "no connections" leaves open. A peer that looked this user up before the
   * connection record was visible may keep that answer for `directoryTtlMs` (the invalidation on connect is best
   * effort), and routes the messages it handles meanwhile past this socket. Those were stored before that
   * answer expired, so once the TTL and a margin have passed, each conversation's lastSeq shows them: anything
   * beyond what this socket has is sent from the table, as a gap fill would. Conversations without a position
   * here get what was stored since the socket opened, as for a first live message. One Query and one BatchGet.
   */
  private async catchUpAfterDirectoryTtl(): Promise<void> {
    if (this.closed) return;
    const memberships = await listMemberships(this.ctx.db, this.userId);
    const ids = new Set([...this.delivered.keys(), ...memberships.map((m) => m.conversationId)]);
    const conversations = await getConversations(this.ctx.db, [...ids], true);
    let filled = 0;
    for (const c of conversations) {
      if (this.closed) return;
      if (!c.memberIds.includes(this.userId) || c.lastSeq <= 0) continue;
      const known = this.delivered.get(c.conversationId);
      let sent: number | undefined;
      if (known !== undefined) {
        if (c.lastSeq <= known) continue;
        sent = await this.fillFromTable(c.conversationId, known, c.lastSeq);
        filled += sent - known;
      } else {
        if ((c.lastMessageAt ?? 0) < this.connectedAt - CLOCK_SKEW_MS) continue;
        const found = await this.sendStoredSinceConnect({ conversationId: c.conversationId, seq: c.lastSeq + 1 });
        sent = found.at(-1)?.seq;
        filled += found.length;
      }
      if (sent !== undefined) {
        this.delivered.set(c.conversationId, Math.max(sent, this.delivered.get(c.conversationId) ?? 0));
      }
    }
    if (filled) {
      this.ctx.log.info(
        { connectionId: this.connectionId, userId: this.userId, messages: filled },
        "catch-up sent messages a peer routed past this socket",
      );
    }
  }

  /**
   * First live message of a conversation this socket has no cursor for (the client did not sync it): the
   * earlier messages stored since the socket opened may still be in flight as notifications, so send them from
   * the table now, in order. Older ones are the client's to fetch with `sync` or history.
   */
  private async sendStoredSinceConnect(ref: MessageRef): Promise<StoredMessage[]> {
    // Allow for clock skew between the persister that stamped storedAt and this gateway.
    const since = this.connectedAt - CLOCK_SKEW_MS;
    const found: StoredMessage[] = [];
    let before = ref.seq;
    for (let pages = 0; pages < 10 && !this.closed; pages++) {
      const page = await pageMessages(this.ctx.db, ref.conversationId, { before, limit: MAX_PAGE, consistent: true });
      const recent = page.messages.filter((m) => m.storedAt >= since);
      found.unshift(...recent);
      if (recent.length < page.messages.length || !page.hasMore || !page.messages.length) break;
      before = page.messages[0]!.seq;
    }
    for (const m of found) this.send({ type: "message", ...m });
    await this.drain();
    return found;
  }

  /** Waits for the socket to flush below half the slow-consumer threshold (sync must not flood memory). */
  private async drain(): Promise<void> {
    const limit = this.ctx.settings.slowConsumerBytes / 2;
    const deadline = this.ctx.now() + 10_000;
    while (!this.closed && this.ws.bufferedAmount > limit) {
      if (this.ctx.now() > deadline) {
        this.close(closeCodes.slowConsumer, "slow consumer: reconnect and sync");
        return;
      }
      await sleep(10);
    }
  }

  /**
   * The rate limit is decided here, as each frame is received; the answer (result or RATE_LIMITED) is queued
   * behind the answers to the frames before it. The violation that crosses `maxRateViolations` gets no answer:
   * the socket closes with 1008 once every frame received before it is answered, and later frames are not read.
   */
  private onFrame(data: RawData, isBinary: boolean): void {
    if (this.closed || this.closing) return;
    if (!this.bucket.take()) {
      const t = this.ctx.now();
      if (t - this.lastViolation > 10_000) this.violations = 0;
      this.lastViolation = t;
      this.violations++;
      if (this.violations > this.ctx.settings.maxRateViolations) {
        this.closing = true;
        this.enqueueInbound(() => this.close(closeCodes.policy, "rate limit exceeded repeatedly"));
        return;
      }
      const ref = refOf(safeJson(data, isBinary));
      this.enqueueInbound(() => {
        if (!this.closed) this.sendError("RATE_LIMITED", "too many frames; slow down", ref);
      });
      return;
    }
    this.enqueueInbound(() => this.handleRaw(data, isBinary));
  }

  private async handleRaw(data: RawData, isBinary: boolean): Promise<void> {
    if (this.closed || !this.registered) return;
    const raw = safeJson(data, isBinary);
    const ref = refOf(raw);
    try {
      const frame = parseFrame(raw);
      await this.handle(frame);
    } catch (err) {
      if (err instanceof FrameError) {
        this.sendError(err.code, err.message, ref);
        return;
      }
      const dependency = isAwsError(err);
      this.ctx.log[dependency ? "warn" : "error"](
        { err: errorMessage(err), connectionId: this.connectionId, frame: ref?.type },
        "frame failed",
      );
      this.sendError(
        dependency ? "UNAVAILABLE" : "INTERNAL",
        dependency ? "a dependency failed; try again" : "internal error",
        ref,
      );
    }
  }

  private async handle(frame: ClientFrame): Promise<void> {
    switch (frame.type) {
      case "ping":
        this.send({ type: "pong" });
        return;
      case "send":
        return this.handleSend(frame);
      case "sync":
        return this.handleSync(frame);
      case "typing":
        return this.handleTyping(frame);
      case "read":
        return this.handleRead(frame);
    }
  }

  private async requireMember(conversationId: string) {
    const c = await this.deps.members.conversationFor(this.userId, conversationId);
    if (!c) throw new FrameError("NOT_MEMBER", "no such conversation, or you are not a member");
    return c;
  }

  private async handleSend(frame: Extract<ClientFrame, { type: "send" }>): Promise<void> {
    await this.requireMember(frame.conversationId);
    const message: InboundMessage = {
      v: 1,
      conversationId: frame.conversationId,
      senderId: this.userId,
      clientMessageId: frame.clientMessageId,
      body: frame.body,
      sentAt: this.ctx.now(),
    };
    try {
      await this.ctx.sqs.send(
        new SendMessageCommand({
          QueueUrl: this.ctx.config.inboundQueueUrl,
          MessageBody: encodeQueueBody(message),
          MessageGroupId: message.conversationId,
          MessageDeduplicationId: inboundDeduplicationId(message),
        }),
      );
    } catch (err) {
      this.ctx.log.warn({ err: errorMessage(err), connectionId: this.connectionId }, "inbound enqueue failed");
      // Refused for what it contains: a resend is refused again, so the client must not be told to resend.
      const refusal = permanentSqsRefusal(err);
      if (refusal)
        throw new FrameError("VALIDATION", `the queue refused this message (${refusal}); do not resend it as is`);
      // Never a false `accepted`: the client keeps the message and resends it with the same clientMessageId.
      throw new FrameError("UNAVAILABLE", "the message was not accepted; resend it");
    }
    this.send({ type: "accepted", conversationId: frame.conversationId, clientMessageId: frame.clientMessageId });
  }

  private async handleSync(frame: Extract<ClientFrame, { type: "sync" }>): Promise<void> {
    const allowed: { conversationId: string; afterSeq: number; cachedLastSeq: number }[] = [];
    for (const cursor of frame.cursors) {
      const c = await this.deps.members.conversationFor(this.userId, cursor.conversationId);
      if (c) allowed.push({ ...cursor, cachedLastSeq: c.lastSeq });
      else {
        this.sendError("NOT_MEMBER", "no such conversation, or you are not a member", {
          type: "sync",
          conversationId: cursor.conversationId,
        });
      }
    }
    await new Promise<void>((resolve, reject) =>
      this.enqueueOutbound(async () => {
        try {
          const cursors: { conversationId: string; lastSeq: number }[] = [];
          for (const cursor of allowed) cursors.push(await this.syncOne(cursor));
          this.send({ type: "synced", cursors });
          resolve();
        } catch (err) {
          reject(err);
        }
      }),
    );
  }

  /**
   * Every stored message after `afterSeq`, page by page, even ones this socket already got live. A cursor beyond
   * the conversation's last seq is clamped to it (as `read` is): kept as is, it would make this socket drop the
   * seqs up to it as repeats when they arrive live. Only a cursor with nothing after it and beyond the cached
   * lastSeq costs a read of the conversation.
   */
  private async syncOne(cursor: { conversationId: string; afterSeq: number; cachedLastSeq: number }) {
    const { conversationId, afterSeq } = cursor;
    let after = afterSeq;
    for (;;) {
      const page = await pageMessages(this.ctx.db, conversationId, { after, limit: MAX_PAGE });
      for (const m of page.messages) this.send({ type: "message", ...m });
      if (page.messages.length) after = page.messages[page.messages.length - 1]!.seq;
      await this.drain();
      if (!page.hasMore || this.closed) break;
    }
    if (after === afterSeq && afterSeq > cursor.cachedLastSeq) {
      const fresh = await getConversation(this.ctx.db, conversationId, true);
      after = Math.min(afterSeq, fresh?.lastSeq ?? 0);
    }
    this.delivered.set(conversationId, Math.max(after, this.delivered.get(conversationId) ?? 0));
    return { conversationId, lastSeq: after };
  }

  private async handleTyping(frame: Extract<ClientFrame, { type: "typing" }>): Promise<void> {
    const c = await this.requireMember(frame.conversationId);
    const t = this.ctx.now();
    // Throttled silently: a typing indicator is a hint, and a client sends one per keystroke.
    if (t - (this.lastTyping.get(frame.conversationId) ?? 0) < this.ctx.settings.typingThrottleMs) return;
    this.lastTyping.set(frame.conversationId, t);
    const out: ServerFrame = { type: "typing", conversationId: frame.conversationId, userId: this.userId };
    void this.deps.router
      .toUsers(
        c.memberIds.filter((m) => m !== this.userId),
        JSON.stringify(out),
      )
      .catch((err) => this.ctx.log.warn({ err: errorMessage(err) }, "typing fan-out failed"));
  }

  private async handleRead(frame: Extract<ClientFrame, { type: "read" }>): Promise<void> {
    const cached = await this.requireMember(frame.conversationId);
    // Never past the newest stored message, or unread counts would go negative later.
    const fresh = (await getConversation(this.ctx.db, frame.conversationId)) ?? cached;
    const seq = Math.min(frame.seq, fresh.lastSeq);
    if (seq <= 0) return;
    const advanced = await advanceLastRead(this.ctx.db, this.userId, frame.conversationId, seq);
    if (!advanced) return;
    const receipt: ServerFrame = { type: "read", conversationId: frame.conversationId, userId: this.userId, seq };
    void this.deps.router
      .toUsers(fresh.memberIds, JSON.stringify(receipt))
      .catch((err) => this.ctx.log.warn({ err: errorMessage(err) }, "receipt fan-out failed"));
  }

  private async onClose(): Promise<void> {
    this.closed = true;
    clearTimeout(this.expiryTimer);
    clearTimeout(this.killTimer);
    clearTimeout(this.catchUpTimer);
    await this.inbound.catch(() => undefined);
    if (!this.registered || !this.deps.sessions.remove(this)) return;
    await this.deps.presence
      .disconnected(this)
      .catch((err) =>
        this.ctx.log.warn({ err: errorMessage(err), connectionId: this.connectionId }, "disconnect bookkeeping failed"),
      );
  }
}

const NOT_JSON = Symbol("not json");

function safeJson(data: RawData, isBinary: boolean): unknown {
  if (isBinary) return NOT_JSON;
  try {
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer);
    return JSON.parse(buf.toString("utf8")) as unknown;
  } catch {
    return NOT_JSON;
  }
}

/** Echoes the identifying fields of a frame in an error, so the client can tell which one failed. */
function refOf(raw: unknown): ErrorRef | undefined {
  if (!raw || typeof raw !== "object") return undefined;
  const r = raw as Record<string, unknown>;
  const ref: ErrorRef = {};
  const str = (v: unknown) => typeof v === "string" && v.length <= 200;
  if (str(r.type)) ref.type = r.type as string;
  if (str(r.clientMessageId)) ref.clientMessageId = r.clientMessageId as string;
  if (str(r.conversationId)) ref.conversationId = r.conversationId as string;
  return Object.keys(ref).length ? ref : undefined;
}

export function parseFrame(raw: unknown): ClientFrame {
  if (raw === NOT_JSON) throw new FrameError("BAD_FRAME", "frames must be JSON text");
  if (!raw || typeof raw !== "object" || Array.isArray(raw))
    throw new FrameError("BAD_FRAME", "a frame is a JSON object");
  const type = (raw as { type?: unknown }).type;
  if (typeof type !== "string" || !knownTypes.has(type)) {
    throw new FrameError("BAD_FRAME", `unknown frame type; expected one of ${[...knownTypes].join(", ")}`);
  }
  const parsed = clientFrameSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.join(".") : type;
    throw new FrameError("VALIDATION", `${where}: ${issue?.message ?? "invalid"}`);
  }
  return parsed.data;
}

function isAwsError(err: unknown): boolean {
  const e = err as { $metadata?: unknown; name?: string; code?: string };
  return (
    e?.$metadata !== undefined ||
    ["TimeoutError", "AbortError"].includes(e?.name ?? "") ||
    ["ECONNREFUSED", "ECONNRESET"].includes(e?.code ?? "")
  );
}
