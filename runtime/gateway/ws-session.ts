/**
 * One WebSocket connection's inbound side: registration and `ready`, frame parsing and the rate limit,
 * send → accepted (only after SQS, inbound.ts), sync, typing and read. What goes out to the socket goes through its writer;
 * `message` frames and sync pages through its ordered outbox (delivery/outbox.ts).
 */
import { randomUUID } from "node:crypto";
import type WebSocket from "ws";
import type { RawData } from "ws";
import {
  closeCodes,
  isStoredEvent,
  refusalOf,
  targetOf,
  type ClientFrame,
  type ErrorCode,
  type InboundEntry,
  type ServerFrame,
  type StoredEntry,
} from "../contracts";
import { getConversation } from "../store/conversations";
import { advanceLastRead } from "../store/memberships";
import { getMessage } from "../store/messages";
import { getUser } from "../store/users";
import type { GatewayContext } from "./context";
import type { ConnectionDirectory, MemberCache } from "./delivery/directory";
import { Outbox, type SyncCursor } from "./delivery/outbox";
import type { Router } from "./delivery/routing";
import { SocketWriter } from "./delivery/writer";
import { FrameError, isAwsError, parseFrame, refOf, safeJson, type ErrorRef } from "./frames";
import type { InboundSender } from "./inbound";
import type { Contacts } from "./presence/contacts";
import type { Presence } from "./presence/presence";
import { FrameRateLimit } from "./rate-limit";
import type { LocalSession, LocalSessions, MessageRef } from "./sessions";
import { errorMessage } from "./util";

export interface SessionDeps {
  readonly sessions: LocalSessions;
  readonly presence: Pick<Presence, "connected" | "disconnected">;
  readonly router: Pick<Router, "toUsers">;
  readonly members: MemberCache;
  readonly directory: ConnectionDirectory;
  readonly inbound: Pick<InboundSender, "enqueue">;
  readonly contacts: Pick<Contacts, "conversationIdsOf">;
}

/**
 * Where a session is in its life, in one place (like ws's readyState):
 * - `opening`: registering (connection cap, record, presence); frames received meanwhile wait, frames pushed
 *   meanwhile are held until `ready`.
 * - `open`: `ready` is out; frames are read and answered.
 * - `closing`: the gateway will close the socket once the answers it owes are out (rate-limit policy); frames
 *   that arrive from then on are not read.
 * - `closed`: close() was called or the socket closed; nothing more is sent.
 */
export type SessionState = "opening" | "open" | "closing" | "closed";

export class Session implements LocalSession {
  readonly connectionId = randomUUID();
  readonly connectedAt: number;
  private state: SessionState = "opening";
  private readonly rateLimit: FrameRateLimit;
  private readonly writer: SocketWriter;
  private readonly outbox: Outbox;
  /**
   * Inbound frames run one at a time, so a client's sends reach the queue in the order it sent them. Every
   * answer to a frame (its result or its error, a RATE_LIMITED refusal included) is sent from this chain, so a
   * later frame's answer never overtakes an earlier one's.
   */
  private inbound: Promise<void> = Promise.resolve();
  private readonly lastTyping = new Map<string, number>();
  private expiryTimer?: NodeJS.Timeout;

  constructor(
    private readonly ctx: GatewayContext,
    private readonly deps: SessionDeps,
    ws: WebSocket,
    readonly userId: string,
    tokenExpiresAt: number,
  ) {
    this.connectedAt = ctx.now();
    this.rateLimit = new FrameRateLimit(ctx.config.limits, ctx.settings.maxRateViolations, ctx.now);
    this.writer = new SocketWriter(ctx, ws, this);
    this.outbox = new Outbox(
      ctx,
      this.writer,
      this,
      (u) => deps.contacts.conversationIdsOf(u),
      (ids) => deps.members.readMany(ids),
    );
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

  get closed(): boolean {
    return this.state === "closed";
  }

  /** Registers the connection (cap, record, presence) and sends `ready`; frames that arrive meanwhile wait. */
  async open(): Promise<void> {
    this.writer.hold();
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
        return { peers: await this.deps.presence.connected(this, live) };
      });
      if (!admitted) return;
      // The record is written (presence.connected returned): from now on the directory TTL — or, once every peer
      // acknowledged the invalidation, a query in flight there — bounds how long a peer can route without it.
      this.outbox.scheduleCatchUp(admitted.peers.acknowledged);
      void admitted.peers.later?.then((ok) => ok && !this.closed && this.outbox.scheduleCatchUp(true));
      if (this.state === "opening") this.state = "open";
      this.writer.release({
        type: "ready",
        connectionId: this.connectionId,
        userId: this.userId,
        gatewayId: this.ctx.gatewayId,
        heartbeatMs: this.ctx.settings.heartbeatMs,
      });
    })();
    this.inbound = opening.catch((err) => {
      this.ctx.log.error({ err: errorMessage(err), connectionId: this.connectionId }, "could not open session");
      this.close(closeCodes.goingAway, "unavailable, reconnect");
    });
    await this.inbound;
  }

  /** Called by the server's heartbeat timer: a peer that did not answer the last ping is dead. */
  heartbeat(): void {
    this.writer.heartbeat();
  }

  push(text: string): void {
    this.writer.push(text);
  }

  pushMessage(ref: MessageRef, text: string): void {
    this.outbox.pushMessage(ref, text);
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.state = "closed";
    this.writer.close(code, reason);
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
    this.writer.send(frame);
  }

  private sendError(code: ErrorCode, message: string, ref?: ErrorRef): void {
    this.send({ type: "error", code, message, ...(ref ? { ref } : {}) });
  }

  /**
   * The rate limit is decided here, as each frame is received; the answer (result or RATE_LIMITED) is queued
   * behind the answers to the frames before it. The violation that crosses `maxRateViolations` gets no answer:
   * the socket closes with 1008 once every frame received before it is answered, and later frames are not read.
   */
  private onFrame(data: RawData, isBinary: boolean): void {
    if (this.state === "closing" || this.state === "closed") return;
    const admission = this.rateLimit.admit();
    if (admission === "close") {
      this.state = "closing";
      this.enqueueInbound(() => this.close(closeCodes.policy, "rate limit exceeded repeatedly"));
      return;
    }
    if (admission === "refuse") {
      const ref = refOf(safeJson(data, isBinary));
      this.enqueueInbound(() => {
        if (!this.closed) this.sendError("RATE_LIMITED", "too many frames; slow down", ref);
      });
      return;
    }
    this.enqueueInbound(() => this.handleRaw(data, isBinary));
  }

  private async handleRaw(data: RawData, isBinary: boolean): Promise<void> {
    // Not registered (refused or failed to open), or closed since: the frame is not read.
    if (this.state !== "open" && this.state !== "closing") return;
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
      case "edit":
      case "delete":
      case "react":
      case "addMembers":
      case "removeMember":
      case "leave":
      case "rename":
        return this.handleEntry(entryOf(frame, this.userId, this.ctx.now()));
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

  /**
   * A message or a change to the conversation: checked here against the rules (entry-rules.ts) so the client
   * hears a refusal at once, queued, then `accepted`. The persister checks it again at its place in the order.
   * A plain message reads nothing but the member cache; one naming a message (a reply, an edit, a delete, a
   * reaction) reads that message, and an add checks the users exist.
   */
  private async handleEntry(entry: InboundEntry): Promise<void> {
    const conversation = await this.requireMember(entry.conversationId);
    const targetSeq = targetOf(entry);
    const target = targetSeq !== undefined ? await getMessage(this.ctx.db, entry.conversationId, targetSeq) : undefined;
    const refusal = refusalOf(entry, conversation, target, { editWindowMs: this.ctx.config.editWindowMs });
    if (refusal && !(await this.isStoredDelete(entry, target))) throw new FrameError(refusal.code, refusal.message);
    if (entry.kind === "add") {
      const added = entry.userIds.filter((u) => !conversation.memberIds.includes(u));
      const found = await Promise.all(added.map((u) => getUser(this.ctx.db, u)));
      const missing = added.filter((_, i) => !found[i]);
      if (missing.length) throw new FrameError("NOT_FOUND", `no such users: ${missing.join(", ")}`);
    }
    await this.deps.inbound.enqueue(entry, this.connectionId);
    this.send({ type: "accepted", conversationId: entry.conversationId, clientMessageId: entry.clientMessageId });
  }

  /**
   * A resent delete whose first copy was stored finds its target gone: it is answered `accepted`, as any resend
   * of a stored entry is. After a delete nothing else applies to the message, so its `rev` is that delete's seq.
   */
  private async isStoredDelete(entry: InboundEntry, target: StoredEntry | undefined): Promise<boolean> {
    if (entry.kind !== "delete" || !target || isStoredEvent(target) || !target.deleted || !target.rev) return false;
    const deletion = await getMessage(this.ctx.db, entry.conversationId, target.rev);
    return deletion?.senderId === entry.senderId && deletion.clientMessageId === entry.clientMessageId;
  }

  /** Cursors of conversations the user is not a member of are answered NOT_MEMBER; the rest are synced. */
  private async handleSync(frame: Extract<ClientFrame, { type: "sync" }>): Promise<void> {
    const allowed: SyncCursor[] = [];
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
    await this.outbox.sync(allowed);
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
    // The member cache, not the eventually consistent read: it is corrected by membership entries at once.
    void this.deps.router
      .toUsers(cached.memberIds, JSON.stringify(receipt))
      .catch((err) => this.ctx.log.warn({ err: errorMessage(err) }, "receipt fan-out failed"));
  }

  private async onClose(): Promise<void> {
    this.state = "closed";
    clearTimeout(this.expiryTimer);
    this.writer.dispose();
    this.outbox.dispose();
    await this.inbound.catch(() => undefined);
    // Only a registered session is in the table (remove answers false otherwise, and when it raced another close).
    if (!this.deps.sessions.remove(this)) return;
    await this.deps.presence
      .disconnected(this)
      .catch((err) =>
        this.ctx.log.warn({ err: errorMessage(err), connectionId: this.connectionId }, "disconnect bookkeeping failed"),
      );
  }
}

type EntryFrame = Extract<
  ClientFrame,
  { type: "send" | "edit" | "delete" | "react" | "addMembers" | "removeMember" | "leave" | "rename" }
>;

/** The log entry a client frame asks for, as the inbound queue carries it. */
export function entryOf(frame: EntryFrame, senderId: string, sentAt: number): InboundEntry {
  const base = {
    v: 1 as const,
    conversationId: frame.conversationId,
    senderId,
    clientMessageId: frame.clientMessageId,
    sentAt,
  };
  switch (frame.type) {
    case "send":
      return { ...base, body: frame.body, ...(frame.replyTo !== undefined ? { replyTo: frame.replyTo } : {}) };
    case "edit":
      return { ...base, kind: "edit", target: frame.seq, body: frame.body };
    case "delete":
      return { ...base, kind: "delete", target: frame.seq };
    case "react":
      return { ...base, kind: "react", target: frame.seq, emoji: frame.emoji, on: frame.on };
    case "addMembers":
      return { ...base, kind: "add", userIds: frame.userIds };
    case "removeMember":
      return { ...base, kind: "remove", userId: frame.userId };
    case "leave":
      return { ...base, kind: "leave" };
    case "rename":
      return { ...base, kind: "rename", title: frame.title };
  }
}
