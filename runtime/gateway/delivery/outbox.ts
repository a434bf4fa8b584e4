/**
 * The last hop of the return path: one socket's ordered outbox. Live `message` frames go out in seq order per
 * conversation — a gap before one is filled from the table first, repeats are dropped — and sync pages, gap
 * fills and the catch-up after the directory TTL run one at a time, with live messages queued behind them.
 */
import { entryFrame, type ServerFrame, type StoredEntry } from "../../contracts";
import { getConversation, getConversations, type ConversationItem } from "../../store/conversations";
import { MAX_PAGE } from "../../contracts/api";
import { READ_PAGE_MAX } from "../../store/messages";
import { CLOCK_SKEW_MS, type GatewayContext } from "../context";
import type { MessageRef } from "../sessions";
import { errorMessage, sleep } from "../util";
import { historyPages } from "./history";
import type { SocketWriter, WriterOwner } from "./writer";

interface HeldMessage {
  readonly ref: MessageRef;
  readonly text: string;
}

/** The session an outbox writes for. */
export interface OutboxOwner extends WriterOwner {
  readonly connectionId: string;
  readonly userId: string;
  readonly connectedAt: number;
}

/** A sync cursor the session checked: the client is a member, and the conversation's lastSeq as cached. */
export interface SyncCursor {
  readonly conversationId: string;
  readonly afterSeq: number;
  readonly cachedLastSeq: number;
}

export class Outbox {
  /** Outgoing work that must stay ordered (sync pages, gap fills); live messages queue behind it. */
  private chain: Promise<void> = Promise.resolve();
  private pending = 0;
  /** Highest seq sent per conversation on this socket: later repeats are dropped, gaps filled from the table. */
  private readonly delivered = new Map<string, number>();
  /**
   * Live messages that overtook a missing seq, per conversation, held up to `reorderWaitMs` for it to arrive live
   * (the other gateway is routing it) before the gap is filled from the table: in a busy room every member's
   * socket would otherwise read the table for the same gap.
   */
  private readonly held = new Map<string, { messages: Map<number, HeldMessage>; timer: NodeJS.Timeout }>();
  private catchUpTimer?: NodeJS.Timeout;

  constructor(
    private readonly ctx: GatewayContext,
    private readonly writer: SocketWriter,
    private readonly owner: OutboxOwner,
    /** The conversations a user is in (Contacts#conversationIdsOf: the connect's presence read, when cached). */
    private readonly conversationsOf: (userId: string) => Promise<readonly string[]>,
    /** Consistent reads of conversations (MemberCache#readMany: what they show is cached for the next sends). */
    private readonly readConversations: (ids: readonly string[]) => Promise<ConversationItem[]> = (ids) =>
      getConversations(this.ctx.db, ids, true),
  ) {}

  pushMessage(ref: MessageRef, text: string): void {
    if (this.owner.closed) return;
    const c = ref.conversationId;
    const last = this.delivered.get(c) ?? (ref.seq === 1 ? 0 : undefined);
    // Fast path: nothing queued ahead of it and it is the next seq (seq 1 needs no cursor).
    if (this.pending === 0 && last !== undefined) {
      if (ref.seq <= last) return;
      if (ref.seq === last + 1) {
        this.delivered.set(c, ref.seq);
        this.writer.push(text);
        this.releaseHeld(c);
        return;
      }
    }
    if (last !== undefined && ref.seq > last + 1 && this.ctx.settings.reorderWaitMs > 0) {
      this.hold(ref, text);
      return;
    }
    this.enqueueInOrder(ref, text);
  }

  /** Queued behind what is ahead: sent in order (a gap filled from the table), then what was held behind it. */
  private enqueueInOrder(ref: MessageRef, text: string): void {
    this.enqueue(async () => {
      await this.deliverInOrder(ref, text);
      this.releaseHeld(ref.conversationId);
    });
  }

  private hold(ref: MessageRef, text: string): void {
    const c = ref.conversationId;
    let h = this.held.get(c);
    if (!h) {
      const timer = setTimeout(() => this.flushHeld(c), this.ctx.settings.reorderWaitMs);
      timer.unref();
      h = { messages: new Map(), timer };
      this.held.set(c, h);
    }
    h.messages.set(ref.seq, { ref, text });
  }

  /**
   * Sends the held messages of `c` that follow what was sent, in order; drops those sent meanwhile. Runs where
   * nothing is queued ahead (the fast path) or as part of a queued task, so order holds.
   */
  private releaseHeld(c: string): void {
    const h = this.held.get(c);
    if (!h) return;
    let last = this.delivered.get(c) ?? 0;
    for (const seq of h.messages.keys()) if (seq <= last) h.messages.delete(seq);
    for (let next = h.messages.get(last + 1); next; next = h.messages.get(last + 1)) {
      h.messages.delete(next.ref.seq);
      last = next.ref.seq;
      this.delivered.set(c, last);
      this.writer.push(next.text);
    }
    if (!h.messages.size) {
      clearTimeout(h.timer);
      this.held.delete(c);
    }
  }

  /** The wait is over: what is still held goes out the usual way, its gap filled from the table. */
  private flushHeld(c: string): void {
    const h = this.held.get(c);
    if (!h) return;
    this.held.delete(c);
    if (this.owner.closed) return;
    const waiting = [...h.messages.values()].sort((a, b) => a.ref.seq - b.ref.seq);
    for (const m of waiting) this.enqueueInOrder(m.ref, m.text);
  }

  /** Sends every stored message after each cursor, then `synced` with the positions reached. */
  sync(cursors: readonly SyncCursor[]): Promise<void> {
    return new Promise<void>((resolve, reject) =>
      this.enqueue(async () => {
        try {
          const reached: { conversationId: string; lastSeq: number }[] = [];
          for (const cursor of cursors) reached.push(await this.syncOne(cursor));
          this.writer.send({ type: "synced", cursors: reached });
          resolve();
        } catch (err) {
          reject(err);
        }
      }),
    );
  }

  /**
   * Arms the catch-up: the socket's connection record was just written. When every peer acknowledged the
   * invalidation, none caches an older answer, and one read before it (a query in flight) is used for at most
   * `invalidatedStaleMs`; otherwise a peer may keep its answer for the directory TTL. Called again when a retried
   * invalidation was acknowledged: the catch-up moves to that bound, counted from then.
   */
  scheduleCatchUp(peersAcknowledged: boolean): void {
    const { directoryTtlMs, invalidatedStaleMs, catchUpMarginMs } = this.ctx.settings;
    clearTimeout(this.catchUpTimer);
    this.catchUpTimer = setTimeout(
      () => this.enqueue(() => this.catchUpAfterDirectoryTtl()),
      (peersAcknowledged ? Math.min(invalidatedStaleMs, directoryTtlMs) : directoryTtlMs) + catchUpMarginMs,
    );
    this.catchUpTimer.unref();
  }

  /** The socket is gone. */
  dispose(): void {
    clearTimeout(this.catchUpTimer);
    for (const h of this.held.values()) clearTimeout(h.timer);
    this.held.clear();
  }

  private enqueue(task: () => Promise<void>): void {
    this.pending++;
    this.chain = this.chain
      .then(task)
      .catch((err) =>
        this.ctx.log.warn({ err: errorMessage(err), connectionId: this.owner.connectionId }, "delivery failed"),
      )
      .finally(() => this.pending--);
  }

  private sendMessage(m: StoredEntry): void {
    const frame: ServerFrame = entryFrame(m);
    this.writer.send(frame);
  }

  private advance(conversationId: string, seq: number): void {
    this.delivered.set(conversationId, Math.max(seq, this.delivered.get(conversationId) ?? 0));
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
      this.ctx.log.warn({ err: errorMessage(err), connectionId: this.owner.connectionId }, "gap fill failed");
    }
    this.advance(ref.conversationId, ref.seq);
    this.writer.push(text);
  }

  /**
   * Sends the stored messages after seq `after` up to `upTo` in order, from a consistent read of the table, and
   * returns the highest seq sent in an unbroken run. Stops at a hole: sending past it would skip the missing seq
   * for good. A hole is retried briefly, since the persister may be just storing it.
   */
  private async fillFromTable(conversationId: string, after: number, upTo: number): Promise<number> {
    const stopped = () => this.owner.closed;
    for (let attempt = 0; attempt < 3 && after < upTo && !stopped(); attempt++) {
      if (attempt) await sleep(150 * attempt);
      const pages = historyPages(this.ctx.db, conversationId, { after, upTo }, { consistent: true, stopped });
      for await (const page of pages) {
        for (const m of page) {
          if (m.seq > upTo || m.seq !== after + 1) break;
          this.sendMessage(m);
          after = m.seq;
        }
        await this.writer.drain();
        // A hole: the next attempt reads again from the seq before it.
        if (after < (page.at(-1)?.seq ?? 0)) break;
      }
    }
    return after;
  }

  /**
   * First live message of a conversation this socket has no cursor for (the client did not sync it): the
   * earlier messages stored since the socket opened may still be in flight as notifications, so send them from
   * the table now, in order. Older ones are the client's to fetch with `sync` or history.
   */
  private async sendStoredSinceConnect(ref: MessageRef): Promise<StoredEntry[]> {
    // Allow for clock skew between the persister that stamped storedAt and this gateway.
    const since = this.owner.connectedAt - CLOCK_SKEW_MS;
    const found: StoredEntry[] = [];
    const reads = { consistent: true, maxPages: 10, stopped: () => this.owner.closed };
    for await (const page of historyPages(this.ctx.db, ref.conversationId, { before: ref.seq }, reads)) {
      const recent = page.filter((m) => m.storedAt >= since);
      found.unshift(...recent);
      if (recent.length < page.length) break;
    }
    for (const m of found) this.sendMessage(m);
    await this.writer.drain();
    return found;
  }

  /**
   * Closes the window a peer's cached "no connections" leaves open. A peer that looked this user up before the
   * connection record was visible may keep that answer for `directoryTtlMs` (the invalidation on connect is best
   * effort), and routes the messages it handles meanwhile past this socket. Those were stored before that
   * answer expired, so once the TTL and a margin have passed, each conversation's lastSeq shows them: anything
   * beyond what this socket has is sent from the table, as a gap fill would. Conversations without a position
   * here get what was stored since the socket opened, as for a first live message. One BatchGet, and a Query of
   * the user's memberships unless the connect's presence lookup has them cached.
   */
  private async catchUpAfterDirectoryTtl(): Promise<void> {
    if (this.owner.closed) return;
    const { userId, connectedAt } = this.owner;
    const ids = new Set([...this.delivered.keys(), ...(await this.conversationsOf(userId))]);
    const conversations = await this.readConversations([...ids]);
    let filled = 0;
    for (const c of conversations) {
      if (this.owner.closed) return;
      if (!c.memberIds.includes(userId) || c.lastSeq <= 0) continue;
      const known = this.delivered.get(c.conversationId);
      let sent: number | undefined;
      if (known !== undefined) {
        if (c.lastSeq <= known) continue;
        sent = await this.fillFromTable(c.conversationId, known, c.lastSeq);
        filled += sent - known;
      } else {
        if ((c.lastMessageAt ?? 0) < connectedAt - CLOCK_SKEW_MS) continue;
        const found = await this.sendStoredSinceConnect({ conversationId: c.conversationId, seq: c.lastSeq + 1 });
        sent = found.at(-1)?.seq;
        filled += found.length;
      }
      if (sent !== undefined) this.advance(c.conversationId, sent);
    }
    if (filled) {
      this.ctx.log.info(
        { connectionId: this.owner.connectionId, userId, messages: filled },
        "catch-up sent messages a peer routed past this socket",
      );
    }
  }

  /**
   * Every stored message after `afterSeq`, page by page, even ones this socket already got live. A cursor beyond
   * the conversation's last seq is clamped to it (as `read` is): kept as is, it would make this socket drop the
   * seqs up to it as repeats when they arrive live. Only a cursor with nothing after it and beyond the cached
   * lastSeq costs a read of the conversation.
   */
  private async syncOne(cursor: SyncCursor): Promise<{ conversationId: string; lastSeq: number }> {
    const { conversationId, afterSeq } = cursor;
    let after = afterSeq;
    // Large pages: a client that missed 1,000 messages gets them in one read, not ten.
    const reads = { pageSize: READ_PAGE_MAX };
    for await (const page of historyPages(this.ctx.db, conversationId, { after: afterSeq }, reads)) {
      for (const [i, m] of page.entries()) {
        this.sendMessage(m);
        // As much in the socket's buffer between drains as one HTTP-sized page: a slow reader is not flooded.
        if ((i + 1) % MAX_PAGE === 0) await this.writer.drain();
        if (this.owner.closed) break;
      }
      if (page.length) after = page.at(-1)!.seq;
      await this.writer.drain();
      if (this.owner.closed) break;
    }
    if (after === afterSeq && afterSeq > cursor.cachedLastSeq) {
      const fresh = await getConversation(this.ctx.db, conversationId, true);
      after = Math.min(afterSeq, fresh?.lastSeq ?? 0);
    }
    this.advance(conversationId, after);
    return { conversationId, lastSeq: after };
  }
}
