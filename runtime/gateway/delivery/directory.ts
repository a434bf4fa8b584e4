/**
 * Who is connected where: members → live connection records through the byUser index (never a scan), cached
 * briefly; a record is live while its owning gateway is (gateway-liveness.ts). Local connects and disconnects
 * invalidate at once, and a gateway tells its peers when a user connects so their cached "no connections" does
 * not hide the new socket. Also who is a member of a conversation (MemberCache), which every frame naming a
 * conversation is checked against.
 */
import { conversationIdSchema } from "../../contracts";
import { getConversation, getConversations, type ConversationItem } from "../../store/conversations";
import {
  getConnections,
  listConnectionsByUser,
  type ConnectionItem,
  type ConnectionRoute,
} from "../../store/connections";
import type { GatewayContext } from "../context";
import { mapLimit, TtlCache } from "../util";
import { GatewayLiveness } from "./gateway-liveness";
import type { ConnectionChange } from "./peer-protocol";

export class ConnectionDirectory {
  private readonly cache: TtlCache<string, ConnectionRoute[]>;
  private readonly inFlight = new Map<string, { startedAt: number; query: Promise<ConnectionRoute[]> }>();
  /** Bumped on invalidation so a query that started earlier does not cache its stale answer. */
  private readonly generation = new Map<string, number>();
  /**
   * Each user's invalidations within the last indexLagMs: an index read soon after may predate the changes.
   * `changes` lists what they were where known (undefined: some change is unknown).
   */
  private readonly recentChanges = new Map<string, { at: number; changes?: ConnectionChange[] }>();

  constructor(
    private readonly ctx: GatewayContext,
    /** Shared with the registry, which feeds it every reaper pass; a directory of its own reads as it goes. */
    readonly liveness: GatewayLiveness = new GatewayLiveness(ctx),
  ) {
    this.cache = new TtlCache(ctx.settings.directoryTtlMs, 200_000, ctx.now);
  }

  /** Bumped by clear(): a query that started before it does not cache its answer either. */
  private epoch = 0;
  /**
   * Answers read before this are used but not cached: until then a peer may connect a socket of one of its users
   * without telling this gateway, because the peer list it used predates this gateway's registration (or its
   * return after a heartbeat gap). Set by the registry (GatewayRegistry#start); a directory without one trusts
   * every answer.
   */
  private trustFrom = 0;

  /** From when answers may be cached (GatewayRegistry: registration + the peer list's age + index lag + skew). */
  trustAnswersFrom(ms: number): void {
    this.trustFrom = ms;
  }

  /**
   * Forgets every cached answer: this gateway may have missed invalidations (peers counted it dead while it did
   * not heartbeat, GatewayRegistry#heartbeat).
   */
  clear(): void {
    this.cache.clear();
    this.inFlight.clear();
    this.epoch++;
  }

  /** Forgets the user's cached connections; `changes` say what changed, where the caller knows it all. */
  invalidate(userId: string, changes?: readonly ConnectionChange[]): void {
    this.cache.delete(userId);
    this.inFlight.delete(userId);
    this.generation.set(userId, (this.generation.get(userId) ?? 0) + 1);
    if (this.generation.size > 200_000) this.generation.clear();
    const now = this.ctx.now();
    const lag = this.ctx.settings.indexLagMs;
    const prior = this.recentChanges.get(userId);
    const carried = prior && now - prior.at < lag ? prior.changes : [];
    this.recentChanges.delete(userId);
    this.recentChanges.set(userId, { at: now, changes: changes && carried ? [...carried, ...changes] : undefined });
    // Oldest first (re-inserted on every invalidation): drop those past the lag.
    for (const [u, r] of this.recentChanges) {
      if (now - r.at < lag) break;
      this.recentChanges.delete(u);
    }
  }

  /** Whether an answer read at `startedAt` may predate a change the index has not shown yet. */
  private mayLag(userId: string, startedAt: number, live: readonly ConnectionRoute[]): number | undefined {
    const recent = this.recentChanges.get(userId);
    if (!recent || startedAt >= recent.at + this.ctx.settings.indexLagMs) return undefined;
    const shown = recent.changes?.every((c) => live.some((r) => r.connectionId === c.connectionId) === c.open);
    return shown ? undefined : recent.at + this.ctx.settings.indexLagMs;
  }

  /** Live connections of each user (fresh read when `fresh`). */
  async liveConnections(userIds: Iterable<string>, fresh = false): Promise<ConnectionRoute[]> {
    return [...(await this.byUser(userIds, fresh)).values()].flat();
  }

  /** The same lookup, answered per user: for frames that go to different users' connections. */
  async byUser(userIds: Iterable<string>, fresh = false): Promise<Map<string, ConnectionRoute[]>> {
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
  async ofUser(userId: string, fresh = false): Promise<ConnectionRoute[]> {
    const ttl = this.ctx.settings.directoryTtlMs;
    if (!fresh) {
      const cached = this.cache.get(userId);
      if (cached) return cached;
      const pending = this.inFlight.get(userId);
      if (pending && this.ctx.now() - pending.startedAt < ttl) return pending.query;
    }
    const gen = this.generation.get(userId) ?? 0;
    const epoch = this.epoch;
    const startedAt = this.ctx.now();
    const query = this.query(userId).finally(() => {
      if (this.inFlight.get(userId)?.query === query) this.inFlight.delete(userId);
    });
    if (!fresh) this.inFlight.set(userId, { startedAt, query });
    const live = await query;
    // The index may not show a change made just before the read began: unless the answer shows it, it is kept
    // only until the index has caught up.
    const lagEnds = this.mayLag(userId, startedAt, live);
    const keepUntil = lagEnds !== undefined ? Math.min(lagEnds, startedAt + ttl) : startedAt + ttl;
    const ttlLeft = keepUntil - this.ctx.now();
    const unchanged = (this.generation.get(userId) ?? 0) === gen && this.epoch === epoch;
    if (unchanged && startedAt >= this.trustFrom && ttlLeft > 0) this.cache.set(userId, live, ttlLeft);
    return live;
  }

  /**
   * The user's live connections for a decision that must not rest on a stale index — "did they go offline?",
   * "are they online?" asked explicitly. The byUser index is eventually consistent in AWS: right after a delete
   * it can still list the record, and a user whose last socket closed would never be announced offline. So the
   * index only names candidates: the ids in `removed` (records the caller just deleted) are dropped, and the rest
   * are confirmed by a strongly consistent read of the base table (no read at all when nothing is left). A live
   * record's `lastSeen` is its gateway's last heartbeat, when that is later than the record's last write.
   */
  async confirmedLive(userId: string, removed: ReadonlySet<string> = new Set()): Promise<ConnectionItem[]> {
    const candidates = (await this.query(userId)).filter((c) => !removed.has(c.connectionId));
    if (!candidates.length) return [];
    const found = await getConnections(
      this.ctx.db,
      candidates.map((c) => c.connectionId),
      true,
    );
    const live = await this.liveness.live(found.filter((c) => c.userId === userId));
    return live.map((c) => ({ ...c, lastSeen: Math.max(c.lastSeen, this.liveness.lastHeartbeat(c.gatewayId) ?? 0) }));
  }

  /**
   * The user's records whose gateways are alive. Those of dead gateways are left to the reaper (registry expired)
   * or to DynamoDB TTL on `expiresAt` (gateway gone from the registry), not deleted here: a gateway that comes
   * back puts its records back, and a read here must not race that.
   */
  private async query(userId: string): Promise<ConnectionRoute[]> {
    return this.liveness.live(await listConnectionsByUser(this.ctx.db, userId));
  }
}

/** How long a member-cache answer serves after the read, or after the newest message that confirmed it. */
export const MEMBER_CACHE_TTL_MS = 60_000;
/**
 * How long an answer serves in all, confirmations included: the bound for what a confirmation cannot show (a
 * rename whose invalidation was lost).
 */
export const MEMBER_CACHE_MAX_AGE_MS = 600_000;

interface CachedConversation {
  readonly item: ConversationItem;
  readonly readAt: number;
  /** The read, or the storedAt of the newest entry whose notification showed the same members. */
  readonly validFrom: number;
}

const sameMembers = (a: readonly string[], b: readonly string[]): boolean => {
  if (a.length !== b.length) return false;
  const set = new Set(a);
  return b.every((m) => set.has(m));
};

/**
 * Conversation members, cached. Members change only through the conversation's log (add, remove, leave), and
 * the gateway that routes such an entry tells every gateway before it routes it (consumer.ts): each forgets the
 * conversation, so a removed member is refused everywhere by the time the removal reaches anyone. The TTL is the
 * safety net for a lost invalidation; reads are strongly consistent (after an invalidation the item must show
 * the change), and a read that started before an invalidation does not cache its answer. An unknown id is
 * re-checked after 2 s because it may just be being created.
 *
 * Every notification a gateway routes carries the conversation's members as of that entry (`confirm`): the same
 * members renew the answer for MEMBER_CACHE_TTL_MS from the entry's storedAt (up to MEMBER_CACHE_MAX_AGE_MS after
 * the read), different ones drop it. A busy conversation is therefore read once per gateway, not once a minute,
 * and a lost invalidation still ends within MEMBER_CACHE_TTL_MS (+ clock skew) of the membership change: a later
 * entry shows the new members, and no entry stored before the change renews past that.
 */
export class MemberCache {
  private readonly cache: TtlCache<string, CachedConversation | null>;
  private readonly generation = new Map<string, number>();

  constructor(private readonly ctx: GatewayContext) {
    this.cache = new TtlCache(MEMBER_CACHE_TTL_MS, 100_000, ctx.now);
  }

  /** The conversation if `userId` is a member, else undefined (also for ids that are not conversation ids). */
  async conversationFor(userId: string, conversationId: string): Promise<ConversationItem | undefined> {
    const c = await this.conversation(conversationId);
    return c?.memberIds.includes(userId) ? c : undefined;
  }

  /** The conversation, members and all, or undefined. */
  async conversation(conversationId: string): Promise<ConversationItem | undefined> {
    if (!conversationIdSchema.safeParse(conversationId).success) return undefined;
    const cached = this.cache.get(conversationId);
    if (cached !== undefined) return cached?.item;
    const gen = this.generation.get(conversationId) ?? 0;
    const fresh = await getConversation(this.ctx.db, conversationId, true);
    if ((this.generation.get(conversationId) ?? 0) === gen) {
      if (fresh) this.remember(fresh);
      else this.cache.set(conversationId, null, 2_000);
    }
    return fresh;
  }

  /**
   * Consistent reads of several conversations (the session's catch-up): their answers are cached as a single
   * read's would be, so a user's first send after connecting reads nothing.
   */
  async readMany(conversationIds: readonly string[]): Promise<ConversationItem[]> {
    const before = new Map(conversationIds.map((id) => [id, this.generation.get(id) ?? 0]));
    const items = await getConversations(this.ctx.db, conversationIds, true);
    for (const c of items) {
      if ((this.generation.get(c.conversationId) ?? 0) === before.get(c.conversationId)) this.remember(c);
    }
    return items;
  }

  remember(conversation: ConversationItem): void {
    const now = this.ctx.now();
    this.cache.set(conversation.conversationId, { item: conversation, readAt: now, validFrom: now });
  }

  /**
   * A notification of entry `seq` (stored at `storedAt`) named `memberIds` as the conversation's members: the
   * cached answer is renewed if it shows the same members, dropped if not. Membership entries are not
   * confirmations (their notification names the members before and after); they go through `forget`.
   */
  confirm(conversationId: string, seq: number, storedAt: number, memberIds: readonly string[]): void {
    const cached = this.cache.get(conversationId);
    if (cached === undefined) return;
    if (cached === null || !sameMembers(cached.item.memberIds, memberIds)) {
      this.forget([conversationId]);
      return;
    }
    if (storedAt <= cached.validFrom) return;
    const ttl = Math.min(storedAt + MEMBER_CACHE_TTL_MS, cached.readAt + MEMBER_CACHE_MAX_AGE_MS) - this.ctx.now();
    if (ttl <= 0) return;
    const item = seq > cached.item.lastSeq ? { ...cached.item, lastSeq: seq } : cached.item;
    this.cache.set(conversationId, { item, readAt: cached.readAt, validFrom: storedAt }, ttl);
  }

  /** A membership or title entry was stored: the next question reads the conversation again. */
  forget(conversationIds: readonly string[]): void {
    for (const id of conversationIds) {
      this.cache.delete(id);
      this.generation.set(id, (this.generation.get(id) ?? 0) + 1);
    }
    if (this.generation.size > 100_000) this.generation.clear();
  }
}
