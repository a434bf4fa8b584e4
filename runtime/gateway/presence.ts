/**
 * Presence: this gateway's connection records and registry record, refreshed every heartbeat; a reaper that
 * removes the records of gateways that stopped heartbeating (crashed, SIGKILLed, partitioned); and `presence`
 * frames to everyone who shares a conversation with a user who came online or went offline.
 */
import { getConversations } from "../store/conversations";
import {
  deleteConnection,
  deleteConnections,
  deleteGateway,
  deleteGatewayIfExpired,
  isLive,
  listConnectionsByGateway,
  listGateways,
  putConnection,
  putGateway,
  touchConnection,
  type ConnectionItem,
} from "../store/connections";
import { listMemberships } from "../store/memberships";
import { recordLastSeen } from "../store/users";
import type { ServerFrame } from "../contracts";
import type { GatewayContext } from "./context";
import type { ConnectionDirectory } from "./directory";
import type { Router } from "./routing";
import type { LocalSession, LocalSessions } from "./sessions";
import { errorMessage, mapLimit, TtlCache } from "./util";

const expiry = (atMs: number): number => Math.ceil(atMs / 1000);
/** Presence changes within this window go out together. */
const PRESENCE_BATCH_MS = 100;

export class Presence {
  private readonly records = new Map<string, ConnectionItem>();
  /** Per user: co-members, and the conversations they were read from (to notice a conversation created since). */
  private readonly coMembers: TtlCache<string, { contacts: string[]; conversationIds: Set<string> }>;
  private heartbeatTimer?: NodeJS.Timeout;
  private reaperTimer?: NodeJS.Timeout;
  /** Bumped by forgetContacts so a read that started earlier does not cache its stale answer. */
  private readonly contactsGeneration = new Map<string, number>();
  private peerUrls: string[] = [];
  private peerRefresh?: { startedAt: number; urls: Promise<string[]> };
  private readonly startedAt: number;
  private stopped = false;
  private beating?: Promise<void>;
  private reaping?: Promise<void>;
  private readonly pendingChanges = new Map<string, Extract<ServerFrame, { type: "presence" }>>();
  private flushing?: Promise<void>;
  private readonly background = new Set<Promise<void>>();
  /** Users whose "went offline?" check failed; the next reaper pass checks them again. */
  private readonly offlineRecheck = new Set<string>();

  constructor(
    private readonly ctx: GatewayContext,
    private readonly sessions: LocalSessions,
    private readonly directory: ConnectionDirectory,
    private readonly router: Router,
  ) {
    this.coMembers = new TtlCache(30_000, 100_000, ctx.now);
    this.startedAt = ctx.now();
    router.onRecordsRemoved = (userIds, removed) =>
      void this.track(this.afterUserLostConnections(userIds, new Set(removed)));
  }

  /** Keeps background presence work visible to stop(), so shutdown does not cut an offline notice short. */
  private track(work: Promise<void>): Promise<void> {
    const p = work
      .catch((err) => this.ctx.log.warn({ err: errorMessage(err) }, "presence update failed"))
      .finally(() => this.background.delete(p));
    this.background.add(p);
    return p;
  }

  /** Registers this gateway before it takes connections, then heartbeats and reaps on timers. */
  async start(): Promise<void> {
    await this.writeGatewayRecord();
    await this.reap().catch((err) => this.ctx.log.warn({ err: errorMessage(err) }, "first reap failed"));
    this.heartbeatTimer = setInterval(() => {
      this.beating ??= this.heartbeat().finally(() => (this.beating = undefined));
    }, this.ctx.settings.heartbeatMs);
    this.reaperTimer = setInterval(() => {
      this.reaping ??= this.reap()
        .catch((err) => this.ctx.log.warn({ err: errorMessage(err) }, "reaper pass failed"))
        .finally(() => (this.reaping = undefined));
    }, this.ctx.settings.reaperMs);
    this.heartbeatTimer.unref();
    this.reaperTimer.unref();
  }

  /** Live peer gateways' internal URLs, as of the last reaper pass or peer refresh. */
  peers(): readonly string[] {
    return this.peerUrls;
  }

  /**
   * Live peers as the registry shows them now (one Query of the registry partition), for invalidations: the
   * reaper's list can be 15 s old and miss a gateway that started since. A refresh already in flight is shared
   * only if it started at or after `notBefore` — a gateway that registers after that read began looks up afresh
   * anyway. Falls back to the last known list if the registry cannot be read.
   */
  refreshPeers(notBefore = this.ctx.now()): Promise<string[]> {
    const current = this.peerRefresh;
    if (current && current.startedAt >= notBefore) return current.urls;
    const startedAt = this.ctx.now();
    const urls = listGateways(this.ctx.db).then(
      (gateways) => {
        const now = this.ctx.now();
        const live = gateways
          .filter((g) => g.ownerGatewayId !== this.ctx.gatewayId && isLive(g, now))
          .map((g) => g.internalUrl);
        if (this.peerRefresh?.startedAt === startedAt) this.peerUrls = live;
        return live;
      },
      (err) => {
        this.ctx.log.warn({ err: errorMessage(err) }, "could not refresh the peer list; using the last known one");
        return this.peerUrls;
      },
    );
    this.peerRefresh = { startedAt, urls };
    void urls.finally(() => {
      if (this.peerRefresh?.urls === urls) this.peerRefresh = undefined;
    });
    return urls;
  }

  /**
   * A conversation including `memberIds` was created: every gateway forgets their cached co-members, so presence
   * changes reach the new contacts. Best effort across gateways; noteConversationMembers bounds what a lost
   * request leaves behind.
   */
  async conversationCreated(memberIds: readonly string[]): Promise<void> {
    this.forgetContacts(memberIds);
    const peers = await this.refreshPeers();
    await this.router.invalidatePeers(peers, { contacts: memberIds });
  }

  /**
   * Called for every routed `message` notification: a member whose cached co-members were read before this
   * conversation existed loses the entry, so the next presence change looks again.
   */
  noteConversationMembers(conversationId: string, memberIds: readonly string[]): void {
    for (const m of memberIds) {
      const cached = this.coMembers.get(m);
      if (cached && !cached.conversationIds.has(conversationId)) this.coMembers.delete(m);
    }
  }

  /**
   * Records a new connection. `othersLive` are the user's live connections read just before (the session's
   * connection-cap check): none means the user just came online.
   */
  async connected(session: LocalSession, othersLive: readonly ConnectionItem[]): Promise<void> {
    const now = this.ctx.now();
    const record: ConnectionItem = {
      connectionId: session.connectionId,
      userId: session.userId,
      gatewayId: this.ctx.gatewayId,
      internalUrl: this.ctx.internalUrl,
      connectedAt: session.connectedAt,
      lastSeen: now,
      expiresAt: expiry(now + this.ctx.settings.presenceTtlMs),
    };
    this.records.set(session.connectionId, record);
    await putConnection(this.ctx.db, record);
    const written = this.ctx.now();
    this.directory.invalidate(session.userId);
    // Peers may hold a cached "no connections" for this user; make them look again before we say ready. The
    // peer list is read after the record was written: a gateway missing from it registered later and so reads
    // the record itself. A lost request is covered by the session's catch-up after the directory TTL.
    const peers = await this.refreshPeers(written);
    await this.router.invalidatePeers(peers, { userIds: [session.userId] });
    if (!othersLive.some((c) => c.connectionId !== session.connectionId)) {
      void this.announce(session.userId, true, now);
    }
  }

  async disconnected(session: LocalSession): Promise<void> {
    await this.track(
      (async () => {
        this.records.delete(session.connectionId);
        await deleteConnection(this.ctx.db, session.connectionId);
        this.directory.invalidate(session.userId);
        await this.afterUserLostConnections([session.userId], new Set([session.connectionId]));
      })(),
    );
  }

  /**
   * For users who may have lost their last connection: record lastSeen and tell their contacts. `removed` are
   * the records the caller just deleted: the byUser index may still list them (it lags writes in AWS), so they
   * do not count, and whatever else it lists is confirmed against the base table (directory.confirmedLive).
   * A user whose check fails is checked again on the next reaper pass.
   */
  private async afterUserLostConnections(
    userIds: readonly string[],
    removed: ReadonlySet<string> = new Set(),
  ): Promise<void> {
    const now = this.ctx.now();
    await mapLimit(userIds, 8, async (userId) => {
      this.offlineRecheck.delete(userId);
      try {
        // A socket of this gateway counts even if its record is not in the index yet.
        if ([...this.sessions.ofUser(userId)].some((s) => !removed.has(s.connectionId))) return;
        const live = await this.directory.confirmedLive(userId, removed);
        if (live.length) return;
      } catch (err) {
        this.offlineRecheck.add(userId);
        throw err;
      }
      await recordLastSeen(this.ctx.db, userId, now).catch((err) =>
        this.ctx.log.warn({ err: errorMessage(err), userId }, "could not record lastSeen"),
      );
      await this.announce(userId, false, now);
    });
  }

  /**
   * Queues a presence change; changes are sent in batches (one lookup of the union of contacts, one request per
   * peer), because a burst of connects in a big group is otherwise quadratic. Never rejects: presence is
   * ephemeral and must never fail the connection path.
   */
  announce(userId: string, online: boolean, lastSeen: number): Promise<void> {
    this.pendingChanges.set(userId, { type: "presence", userId, online, lastSeen });
    this.flushing ??= new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.flushing = undefined;
        const changes = [...this.pendingChanges.values()];
        this.pendingChanges.clear();
        this.sendPresence(changes).then(resolve, (err) => {
          this.ctx.log.warn({ err: errorMessage(err), users: changes.length }, "presence announce failed");
          resolve();
        });
      }, PRESENCE_BATCH_MS);
      timer.unref();
    });
    return this.flushing;
  }

  private async sendPresence(changes: Extract<ServerFrame, { type: "presence" }>[]): Promise<void> {
    const contacts = await mapLimit(changes, 8, (c) => this.contactsOf(c.userId));
    const byUser = new Map<string, ConnectionItem[]>();
    const everyone = [...new Set(contacts.flat())];
    const lists = await mapLimit(everyone, 16, (u) => this.directory.ofUser(u));
    everyone.forEach((u, i) => byUser.set(u, lists[i]!));
    await this.router.routeToConnections(
      changes.map((change, i) => ({
        frame: JSON.stringify(change),
        connections: contacts[i]!.flatMap((u) => byUser.get(u) ?? []),
      })),
    );
  }

  /** Users who share at least one conversation with `userId` (read from the tables when `fresh`). */
  async contactsOf(userId: string, fresh = false): Promise<string[]> {
    const cached = fresh ? undefined : this.coMembers.get(userId);
    if (cached) return cached.contacts;
    const gen = this.contactsGeneration.get(userId) ?? 0;
    const memberships = await listMemberships(this.ctx.db, userId);
    const conversations = await getConversations(
      this.ctx.db,
      memberships.map((m) => m.conversationId),
    );
    const contacts = new Set<string>();
    for (const c of conversations) for (const m of c.memberIds) if (m !== userId) contacts.add(m);
    const list = [...contacts];
    if ((this.contactsGeneration.get(userId) ?? 0) === gen) {
      this.coMembers.set(userId, {
        contacts: list,
        conversationIds: new Set(conversations.map((c) => c.conversationId)),
      });
    }
    return list;
  }

  forgetContacts(userIds: readonly string[]): void {
    for (const u of userIds) {
      this.coMembers.delete(u);
      this.contactsGeneration.set(u, (this.contactsGeneration.get(u) ?? 0) + 1);
    }
    if (this.contactsGeneration.size > 200_000) this.contactsGeneration.clear();
  }

  private async writeGatewayRecord(): Promise<void> {
    const now = this.ctx.now();
    await putGateway(this.ctx.db, {
      gatewayId: this.ctx.gatewayId,
      internalUrl: this.ctx.internalUrl,
      startedAt: this.startedAt,
      lastSeen: now,
      expiresAt: expiry(now + this.ctx.settings.gatewayTtlMs),
    });
  }

  /** One pass: the registry record, then every local connection record (a record a peer removed is put back). */
  private async heartbeat(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.writeGatewayRecord();
    } catch (err) {
      this.ctx.log.warn({ err: errorMessage(err) }, "gateway heartbeat failed");
    }
    const now = this.ctx.now();
    const expiresAt = expiry(now + this.ctx.settings.presenceTtlMs);
    await mapLimit([...this.records.values()], 16, async (r) => {
      try {
        const touched = await touchConnection(this.ctx.db, r.connectionId, now, expiresAt);
        if (!touched && this.records.has(r.connectionId) && !this.stopped) {
          await putConnection(this.ctx.db, { ...r, lastSeen: now, expiresAt });
          this.directory.invalidate(r.userId);
        }
      } catch (err) {
        this.ctx.log.warn({ err: errorMessage(err), connectionId: r.connectionId }, "connection heartbeat failed");
      }
    });
  }

  /**
   * Removes the connections of gateways whose registry record expired (any gateway may do it; the conditional
   * delete of the registry record makes one of them the winner), and this gateway's own records that no
   * longer have a socket (a heartbeat racing a close can re-put one).
   */
  async reap(): Promise<void> {
    const now = this.ctx.now();
    const gateways = await listGateways(this.ctx.db);
    this.peerUrls = gateways
      .filter((g) => g.ownerGatewayId !== this.ctx.gatewayId && isLive(g, now))
      .map((g) => g.internalUrl);
    for (const g of gateways) {
      if (g.ownerGatewayId === this.ctx.gatewayId || isLive(g, now)) continue;
      const orphans = await listConnectionsByGateway(this.ctx.db, g.ownerGatewayId);
      const orphanIds = orphans.map((o) => o.connectionId);
      await deleteConnections(this.ctx.db, orphanIds);
      const users = [...new Set(orphans.map((o) => o.userId))];
      for (const u of users) this.directory.invalidate(u);
      const won = await deleteGatewayIfExpired(this.ctx.db, g.ownerGatewayId, now);
      if (won || orphans.length) {
        this.ctx.log.info({ deadGateway: g.ownerGatewayId, connections: orphans.length }, "reaped dead gateway");
      }
      await this.afterUserLostConnections(users, new Set(orphanIds));
    }
    const own = await listConnectionsByGateway(this.ctx.db, this.ctx.gatewayId);
    const ghosts = own.filter((o) => !this.records.has(o.connectionId) && !this.sessions.get(o.connectionId));
    if (ghosts.length) {
      const ghostIds = ghosts.map((g) => g.connectionId);
      await deleteConnections(this.ctx.db, ghostIds);
      const users = [...new Set(ghosts.map((g) => g.userId))];
      for (const u of users) this.directory.invalidate(u);
      // Also the records of a previous process with this gatewayId (a restart after a crash).
      await this.afterUserLostConnections(users, new Set(ghostIds));
    }
    if (this.offlineRecheck.size) await this.afterUserLostConnections([...this.offlineRecheck]);
  }

  /** Shutdown: stop timers and remove this gateway's records so peers stop routing here at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.heartbeatTimer);
    clearInterval(this.reaperTimer);
    await Promise.allSettled([this.beating, this.reaping, ...this.background]);
    const ids = [...this.records.keys()];
    const users = [...new Set([...this.records.values()].map((r) => r.userId))];
    this.records.clear();
    const removed = await deleteConnections(this.ctx.db, ids).then(
      () => new Set(ids),
      (err) => {
        this.ctx.log.warn({ err: errorMessage(err) }, "could not remove connection records on shutdown");
        return new Set<string>();
      },
    );
    await deleteGateway(this.ctx.db, this.ctx.gatewayId).catch(() => undefined);
    for (const u of users) this.directory.invalidate(u);
    // Every socket here is closed: `removed` keeps the lagging index from showing them as still online.
    await this.afterUserLostConnections(users, removed).catch(() => undefined);
    await Promise.allSettled([...this.background]);
  }
}
