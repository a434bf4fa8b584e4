/**
 * Presence: this gateway's connection records (written on connect, removed on disconnect; their liveness is the
 * registry's heartbeat, so an idle one is written again only to push its backstop expiry out, every
 * connectionRefreshMs, or to put it back when a peer removed it while its socket is open), and `presence` frames
 * to everyone who shares a conversation with a user who came online or went offline, batched.
 * The registry's reaper and the router report records they removed; presence decides who went offline.
 */
import type { ServerFrame } from "../../contracts";
import {
  deleteConnection,
  deleteConnections,
  getConnections,
  putConnection,
  touchConnection,
  type ConnectionItem,
  type ConnectionRoute,
} from "../../store/connections";
import { recordLastSeen } from "../../store/users";
import type { GatewayContext } from "../context";
import type { ConnectionDirectory } from "../delivery/directory";
import type { PeerClient } from "../delivery/peer";
import type { Router } from "../delivery/routing";
import type { LocalSession, LocalSessions } from "../sessions";
import { errorMessage, mapLimit } from "../util";
import type { Contacts } from "./contacts";
import { InvalidationRetries } from "./invalidation-retries";
import { expiry, type ConnectionRecordOwner, type PeerList } from "./registry";

/** Presence changes within this window go out together. */
const PRESENCE_BATCH_MS = 100;
/** Disconnects within this window are told to peers in one invalidation. */
const DISCONNECT_BATCH_MS = 20;
/** What a connect's invalidation reached: every live peer at once, or — `later` — after retries (or never). */
export interface PeersInvalidated {
  readonly acknowledged: boolean;
  /** Only when not `acknowledged`: resolves true once every peer then live acknowledged a retry. */
  readonly later?: Promise<boolean>;
}

type PresenceFrame = Extract<ServerFrame, { type: "presence" }>;

export interface PresenceDeps {
  readonly sessions: LocalSessions;
  readonly directory: ConnectionDirectory;
  readonly router: Pick<Router, "routeToConnections">;
  readonly contacts: Pick<Contacts, "contactsOf">;
  readonly peers: Pick<PeerList, "peersAsOf" | "refreshPeers" | "current">;
  readonly peerClient: Pick<PeerClient, "invalidatePeers" | "unacknowledged">;
}

export class Presence implements ConnectionRecordOwner {
  private readonly records = new Map<string, ConnectionItem>();
  private heartbeatTimer?: NodeJS.Timeout;
  private stopped = false;
  private beating?: Promise<void>;
  private readonly pendingChanges = new Map<string, PresenceFrame>();
  private flushing?: Promise<void>;
  private readonly background = new Set<Promise<void>>();
  /** Users whose "went offline?" check failed; the next reaper pass checks them again. */
  private readonly offlineRecheck = new Set<string>();
  /** Users who lost a connection here and whose peers have not been told yet. */
  private readonly disconnectedUsers = new Set<string>();
  /** Records whose first write is in flight: a reaper pass that reads before it lands must not put them back. */
  private readonly firstWrites = new Set<string>();
  private disconnectTimer?: NodeJS.Timeout;
  private readonly retries: InvalidationRetries;

  constructor(
    private readonly ctx: GatewayContext,
    private readonly deps: PresenceDeps,
  ) {
    this.retries = new InvalidationRetries(ctx, { ...deps, holds: (id) => this.records.has(id) });
  }

  /** Checks every heartbeat for connection records whose backstop expiry is due for a refresh. */
  start(): void {
    this.heartbeatTimer = setInterval(() => {
      this.beating ??= this.refreshDue().finally(() => (this.beating = undefined));
    }, this.ctx.settings.heartbeatMs);
    this.heartbeatTimer.unref();
  }

  /** Keeps background presence work visible to stop(), so shutdown does not cut an offline notice short. */
  private track(work: Promise<void>): Promise<void> {
    const p = work
      .catch((err) => this.ctx.log.warn({ err: errorMessage(err) }, "presence update failed"))
      .finally(() => this.background.delete(p));
    this.background.add(p);
    return p;
  }

  /**
   * Records a new connection. `othersLive` are the user's live connections read just before (the session's
   * connection-cap check): none means the user just came online. Answers whether every peer acknowledged the
   * invalidation, and if not, when retries reached them (Outbox.scheduleCatchUp).
   */
  async connected(session: LocalSession, othersLive: readonly ConnectionRoute[]): Promise<PeersInvalidated> {
    const now = this.ctx.now();
    const record: ConnectionItem = {
      connectionId: session.connectionId,
      userId: session.userId,
      gatewayId: this.ctx.gatewayId,
      internalUrl: this.ctx.internalUrl,
      connectedAt: session.connectedAt,
      ...this.written(now),
    };
    this.records.set(session.connectionId, record);
    this.firstWrites.add(session.connectionId);
    try {
      await putConnection(this.ctx.db, record);
    } finally {
      this.firstWrites.delete(session.connectionId);
    }
    const written = this.ctx.now();
    const opened = [{ userId: session.userId, connectionId: session.connectionId, open: true }];
    this.deps.directory.invalidate(session.userId, opened);
    // Peers may hold a cached "no connections" for this user; make them look again before we say ready. The
    // peer list is at most peerListMaxAgeMs older than the record: a gateway missing from it registered too
    // recently to cache anything (PeerList#peersAsOf). A lost request is sent again (InvalidationRetries); the
    // session's catch-up after the directory TTL covers a peer that never answers.
    const peers = await this.deps.peers.peersAsOf(written);
    const missed = await this.deps.peerClient.unacknowledged(peers, { userIds: [session.userId], changes: opened });
    // Another connection keeps the user online — unless it is one of ours that closed meanwhile (its close may
    // have found no live connection before this record was written and announced "offline"; under the user lock
    // that check and this connect are one step at a time here), or a remote one that went too (checked again
    // below, now that this record is written).
    const others = othersLive.filter(
      (c) =>
        c.connectionId !== session.connectionId && (c.gatewayId !== this.ctx.gatewayId || this.holds(c.connectionId)),
    );
    if (!others.length) void this.announce(session.userId, true, now);
    else if (!others.some((c) => c.gatewayId === this.ctx.gatewayId)) void this.track(this.stillOnline(session));
    if (!missed.length) return { acknowledged: true };
    const acked = peers.filter((p) => !missed.includes(p));
    return { acknowledged: false, later: this.retries.add(session.connectionId, session.userId, acked) };
  }

  /**
   * The user's other connections were all on peers when this one opened: if they closed before this record was
   * written, the peer that saw the last close announced "offline" and nobody announced "online".
   */
  private async stillOnline(session: LocalSession): Promise<void> {
    try {
      const live = await this.deps.directory.confirmedLive(session.userId, new Set([session.connectionId]));
      if (!live.length && this.holds(session.connectionId)) await this.announce(session.userId, true, this.ctx.now());
    } catch (err) {
      this.ctx.log.warn({ err: errorMessage(err), userId: session.userId }, "presence re-check failed");
    }
  }

  async disconnected(session: LocalSession): Promise<void> {
    await this.track(
      (async () => {
        this.records.delete(session.connectionId);
        await deleteConnection(this.ctx.db, session.connectionId);
        this.deps.directory.invalidate(session.userId, [
          { userId: session.userId, connectionId: session.connectionId, open: false },
        ]);
        this.tellPeersDisconnected([session.userId]);
        await this.afterUserLostConnections([session.userId], new Set([session.connectionId]));
      })(),
    );
  }

  /** The router's removal listener: records it found stale are gone (`removed`: those deleted for certain). */
  recordsRemoved(userIds: readonly string[], removed: readonly string[]): void {
    void this.track(this.afterUserLostConnections(userIds, new Set(removed)));
  }

  /**
   * Peers cache users' live connections for the directory TTL; told of a disconnect, they look again instead of
   * forwarding to a socket that is gone (which would cost them a round trip and a record removal). Best effort,
   * coalesced over a few ms, to the peers of the last reaper pass: a gateway missing from that list learns it
   * from our "not here" answer to its forward.
   */
  private tellPeersDisconnected(userIds: readonly string[]): void {
    for (const u of userIds) this.disconnectedUsers.add(u);
    if (this.disconnectTimer) return;
    this.disconnectTimer = setTimeout(() => void this.track(this.flushDisconnects()), DISCONNECT_BATCH_MS);
    this.disconnectTimer.unref();
  }

  private async flushDisconnects(): Promise<void> {
    this.disconnectTimer = undefined;
    const userIds = [...this.disconnectedUsers];
    this.disconnectedUsers.clear();
    if (userIds.length) await this.deps.peerClient.invalidatePeers(this.deps.peers.current(), { userIds });
  }

  holds(connectionId: string): boolean {
    return this.records.has(connectionId) || this.deps.sessions.get(connectionId) !== undefined;
  }

  /**
   * For users who may have lost their last connection: record lastSeen and tell their contacts. `removed` are
   * the records the caller just deleted: the byUser index may still list them (it lags writes in AWS), so they
   * do not count, and whatever else it lists is confirmed against the base table (directory.confirmedLive).
   * A user whose check fails is checked again on the next reaper pass.
   */
  async afterUserLostConnections(userIds: readonly string[], removed: ReadonlySet<string> = new Set()): Promise<void> {
    const now = this.ctx.now();
    await mapLimit(userIds, 8, async (userId) => {
      // Under the user lock: a connect of this user here either ran before (its session counts below) or runs
      // after (it reads the connections without the removed ones, and announces "online" itself).
      const sent = await this.deps.sessions.withUserLock(userId, async () => {
        this.offlineRecheck.delete(userId);
        try {
          // A socket of this gateway counts even if its record is not in the index yet.
          if ([...this.deps.sessions.ofUser(userId)].some((s) => !removed.has(s.connectionId))) return undefined;
          const live = await this.deps.directory.confirmedLive(userId, removed);
          if (live.length) return undefined;
        } catch (err) {
          this.offlineRecheck.add(userId);
          throw err;
        }
        await recordLastSeen(this.ctx.db, userId, now).catch((err) =>
          this.ctx.log.warn({ err: errorMessage(err), userId }, "could not record lastSeen"),
        );
        // Queued under the lock (a connect after it replaces it with "online"), sent after it.
        return { flushed: this.announce(userId, false, now) };
      });
      await sent?.flushed;
    });
  }

  async recheckOffline(): Promise<void> {
    if (this.offlineRecheck.size) await this.afterUserLostConnections([...this.offlineRecheck]);
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

  private async sendPresence(changes: PresenceFrame[]): Promise<void> {
    const contacts = await mapLimit(changes, 8, (c) => this.deps.contacts.contactsOf(c.userId));
    const byUser = await this.deps.directory.byUser(contacts.flat());
    await this.deps.router.routeToConnections(
      changes.map((change, i) => ({
        frame: JSON.stringify(change),
        connections: contacts[i]!.flatMap((u) => byUser.get(u) ?? []),
      })),
    );
  }

  /** A record's write time and backstop expiry, for a write at `now`. */
  private written(now: number): Pick<ConnectionItem, "lastSeen" | "expiresAt"> {
    return { lastSeen: now, expiresAt: expiry(now + this.ctx.settings.connectionTtlMs) };
  }

  /**
   * Pushes out the backstop expiry of the records last written connectionRefreshMs ago or more (a record a peer
   * removed is put back). Liveness is the registry heartbeat's, so this is the only write an idle connection makes.
   */
  private async refreshDue(): Promise<void> {
    if (this.stopped) return;
    const now = this.ctx.now();
    const due = [...this.records.values()].filter((r) => now - r.lastSeen >= this.ctx.settings.connectionRefreshMs);
    await mapLimit(due, 16, async (r) => {
      try {
        const touched = await touchConnection(this.ctx.db, r.connectionId, now, this.written(now).expiresAt);
        if (touched) this.noteWritten(r, now);
        else await this.putBack(r);
      } catch (err) {
        this.ctx.log.warn({ err: errorMessage(err), connectionId: r.connectionId }, "connection refresh failed");
      }
    });
  }

  /**
   * The reaper's pass over this gateway's records: `listed` are those the byGateway index shows. A record of an
   * open socket it lacks, and that a consistent read does not find either, was removed by a peer (a forward to
   * here failed) and is put back. The index lags new writes, so only unlisted records are read, never all.
   */
  async restoreMissing(listed: ReadonlySet<string>): Promise<void> {
    const unlisted = [...this.records.values()].filter(
      (r) => !listed.has(r.connectionId) && !this.firstWrites.has(r.connectionId),
    );
    if (!unlisted.length || this.stopped) return;
    const found = await getConnections(
      this.ctx.db,
      unlisted.map((r) => r.connectionId),
      true,
    );
    const present = new Set(found.map((c) => c.connectionId));
    await mapLimit(
      unlisted.filter((r) => !present.has(r.connectionId)),
      16,
      (r) => this.putBack(r),
    );
  }

  /** Puts a removed record back while its socket is open. */
  private async putBack(r: ConnectionItem): Promise<void> {
    if (!this.records.has(r.connectionId) || this.stopped) return;
    const now = this.ctx.now();
    await putConnection(this.ctx.db, { ...r, ...this.written(now) });
    this.noteWritten(r, now);
    this.deps.directory.invalidate(r.userId);
  }

  private noteWritten(r: ConnectionItem, now: number): void {
    if (this.records.has(r.connectionId)) this.records.set(r.connectionId, { ...r, ...this.written(now) });
  }

  /**
   * Shutdown (after the registry stopped reaping): remove this gateway's connection records so peers stop
   * routing here at once, and tell contacts who went offline.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.heartbeatTimer);
    await Promise.allSettled([this.beating, this.retries.stop(), ...this.background]);
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
    for (const u of users) this.deps.directory.invalidate(u);
    clearTimeout(this.disconnectTimer);
    for (const u of users) this.disconnectedUsers.add(u);
    await this.flushDisconnects().catch(() => undefined);
    // Every socket here is closed: `removed` keeps the lagging index from showing them as still online.
    await this.afterUserLostConnections(users, removed).catch(() => undefined);
    await Promise.allSettled([...this.background]);
  }
}
