/**
 * Who is connected where: members → live connection records through the byUser index (never a scan), cached
 * briefly. Local connects and disconnects invalidate at once, and a gateway tells its peers when a user connects
 * so their cached "no connections" does not hide the new socket. Also who is a member of a conversation
 * (MemberCache), which every frame naming a conversation is checked against.
 */
import { conversationIdSchema } from "../../contracts";
import { getConversation, type ConversationItem } from "../../store/conversations";
import {
  deleteConnections,
  getConnections,
  isLive,
  listConnectionsByUser,
  type ConnectionItem,
} from "../../store/connections";
import type { GatewayContext } from "../context";
import { mapLimit, TtlCache } from "../util";

export class ConnectionDirectory {
  private readonly cache: TtlCache<string, ConnectionItem[]>;
  private readonly inFlight = new Map<string, { startedAt: number; query: Promise<ConnectionItem[]> }>();
  /** Bumped on invalidation so a query that started earlier does not cache its stale answer. */
  private readonly generation = new Map<string, number>();

  constructor(private readonly ctx: GatewayContext) {
    this.cache = new TtlCache(ctx.settings.directoryTtlMs, 200_000, ctx.now);
  }

  invalidate(userId: string): void {
    this.cache.delete(userId);
    this.inFlight.delete(userId);
    this.generation.set(userId, (this.generation.get(userId) ?? 0) + 1);
    if (this.generation.size > 200_000) this.generation.clear();
  }

  /** Live connections of each user (fresh read when `fresh`). Expired records found on the way are removed. */
  async liveConnections(userIds: Iterable<string>, fresh = false): Promise<ConnectionItem[]> {
    return [...(await this.byUser(userIds, fresh)).values()].flat();
  }

  /** The same lookup, answered per user: for frames that go to different users' connections. */
  async byUser(userIds: Iterable<string>, fresh = false): Promise<Map<string, ConnectionItem[]>> {
    const unique = [...new Set(userIds)];
    const lists = await mapLimit(unique, 16, (u) => this.ofUser(u, fresh));
    return new Map(unique.map((u, i) => [u, lists[i]!]));
  }

  /**
   * An answer is never used more than `directoryTtlMs` after the read behind it started — cached entries expire
   * counted from the query's start, and a slow query in flight is not joined once that much time has passed.
   * That is the bound a new connection relies on (Outbox.catchUpAfterDirectoryTtl): once the TTL (+ index
   * lag) has passed since its record was written, no gateway routes with an answer that predates it.
   */
  async ofUser(userId: string, fresh = false): Promise<ConnectionItem[]> {
    const ttl = this.ctx.settings.directoryTtlMs;
    if (!fresh) {
      const cached = this.cache.get(userId);
      if (cached) return cached;
      const pending = this.inFlight.get(userId);
      if (pending && this.ctx.now() - pending.startedAt < ttl) return pending.query;
    }
    const gen = this.generation.get(userId) ?? 0;
    const startedAt = this.ctx.now();
    const query = this.query(userId).finally(() => {
      if (this.inFlight.get(userId)?.query === query) this.inFlight.delete(userId);
    });
    if (!fresh) this.inFlight.set(userId, { startedAt, query });
    const live = await query;
    const ttlLeft = startedAt + ttl - this.ctx.now();
    if ((this.generation.get(userId) ?? 0) === gen && ttlLeft > 0) this.cache.set(userId, live, ttlLeft);
    return live;
  }

  /**
   * The user's live connections for a decision that must not rest on a stale index — "did they go offline?",
   * "are they online?" asked explicitly. The byUser index is eventually consistent in AWS: right after a delete
   * it can still list the record, and a user whose last socket closed would never be announced offline. So the
   * index only names candidates: the ids in `removed` (records the caller just deleted) are dropped, and the rest
   * are confirmed by a strongly consistent read of the base table (no read at all when nothing is left).
   */
  async confirmedLive(userId: string, removed: ReadonlySet<string> = new Set()): Promise<ConnectionItem[]> {
    const candidates = (await this.query(userId)).filter((c) => !removed.has(c.connectionId));
    if (!candidates.length) return [];
    const now = this.ctx.now();
    const found = await getConnections(
      this.ctx.db,
      candidates.map((c) => c.connectionId),
      true,
    );
    return found.filter((c) => c.userId === userId && isLive(c, now));
  }

  private async query(userId: string): Promise<ConnectionItem[]> {
    const all = await listConnectionsByUser(this.ctx.db, userId);
    const now = this.ctx.now();
    const expired = all.filter((c) => !isLive(c, now)).map((c) => c.connectionId);
    if (expired.length) {
      // The owner stopped heartbeating them; DynamoDB TTL would take days (dynalite: forever).
      deleteConnections(this.ctx.db, expired).catch((err) =>
        this.ctx.log.warn({ err, userId }, "could not remove expired connection records"),
      );
    }
    return all.filter((c) => isLive(c, now));
  }
}

/**
 * Conversation members, cached. memberIds never shrink (nor, in this version, grow after creation), so a cached
 * conversation answers membership both ways; an unknown id is re-checked after 2 s because it may just be
 * being created.
 */
export class MemberCache {
  private readonly cache: TtlCache<string, ConversationItem | null>;

  constructor(private readonly ctx: GatewayContext) {
    this.cache = new TtlCache(60_000, 100_000, ctx.now);
  }

  /** The conversation if `userId` is a member, else undefined (also for ids that are not conversation ids). */
  async conversationFor(userId: string, conversationId: string): Promise<ConversationItem | undefined> {
    if (!conversationIdSchema.safeParse(conversationId).success) return undefined;
    const cached = this.cache.get(conversationId);
    // memberIds are fixed at creation in this version, so a cached conversation answers both ways.
    if (cached !== undefined) return cached?.memberIds.includes(userId) ? cached : undefined;
    const fresh = await getConversation(this.ctx.db, conversationId);
    this.cache.set(conversationId, fresh ?? null, fresh ? 60_000 : 2_000);
    return fresh?.memberIds.includes(userId) ? fresh : undefined;
  }

  remember(conversation: ConversationItem): void {
    this.cache.set(conversation.conversationId, conversation);
  }
}
