/**
 * The gateway registry: this gateway's own record, written at start and every heartbeat; the reaper, which
 * removes the connection records of gateways that stopped heartbeating (crashed, SIGKILLed, partitioned) and this
 * gateway's own records that no longer have a socket; and the list of live peers it reads on the way.
 */
import {
  deleteConnections,
  deleteGateway,
  deleteGatewayIfExpired,
  isLive,
  listConnectionsByGateway,
  listGateways,
  putGateway,
  type ConnectionItem,
  type GatewayItem,
} from "../../store/connections";
import { trustWindowMs, type GatewayContext } from "../context";
import type { ConnectionDirectory } from "../delivery/directory";
import type { GatewayLiveness } from "../delivery/gateway-liveness";
import { errorMessage } from "../util";

export const expiry = (atMs: number): number => Math.ceil(atMs / 1000);

/** Live peers' internal URLs among `gateways` (this gateway excluded). */
function livePeerUrls(gateways: readonly GatewayItem[], self: string, now: number): string[] {
  return gateways.filter((g) => g.ownerGatewayId !== self && isLive(g, now)).map((g) => g.internalUrl);
}

/**
 * The live peer gateways: as of the last reaper pass, or read afresh for an invalidation. Every registry read is
 * also what `liveness` judges connection records by.
 */
export class PeerList {
  private urls: string[] = [];
  /** When the read behind `urls` started. */
  private urlsReadAt = -Infinity;
  private refresh?: { startedAt: number; urls: Promise<string[]> };

  constructor(
    private readonly ctx: GatewayContext,
    private readonly liveness: GatewayLiveness,
  ) {}

  /** Live peer gateways' internal URLs, as of the last reaper pass or peer refresh. */
  current(): readonly string[] {
    return this.urls;
  }

  /** The reaper read the whole registry, in a read that started at `now`. */
  noteRegistry(gateways: readonly GatewayItem[], now: number): void {
    this.adopt(livePeerUrls(gateways, this.ctx.gatewayId, now), now);
    this.liveness.noteRegistry(gateways, now);
  }

  private adopt(urls: string[], readAt: number): void {
    if (readAt < this.urlsReadAt) return;
    this.urls = urls;
    this.urlsReadAt = readAt;
  }

  /**
   * The peers a connection written at `written` must invalidate: the known list if the read behind it started at
   * most peerListMaxAgeMs before, else a fresh one. Enough, because a gateway caches no directory answer until
   * peerListMaxAgeMs + indexLagMs + CLOCK_SKEW_MS after it registered (GatewayRegistry#start): one that a list
   * this young does not show has no cached answer that predates the record. Saves a registry read per connect.
   */
  peersAsOf(written: number): Promise<readonly string[]> {
    const oldest = written - this.ctx.settings.peerListMaxAgeMs;
    if (this.urlsReadAt >= oldest) return Promise.resolve(this.urls);
    if (this.refresh && this.refresh.startedAt >= oldest) return this.refresh.urls;
    return this.refreshPeers(written);
  }

  /**
   * Live peers as the registry shows them now (one Query of the registry partition), for invalidations: the
   * reaper's list can be 15 s old and miss a gateway that started since. A refresh already in flight is shared
   * only if it started at or after `notBefore` — a gateway that registers after that read began looks up afresh
   * anyway. Falls back to the last known list if the registry cannot be read.
   */
  refreshPeers(notBefore = this.ctx.now()): Promise<string[]> {
    const current = this.refresh;
    if (current && current.startedAt >= notBefore) return current.urls;
    const startedAt = this.ctx.now();
    const urls = listGateways(this.ctx.db).then(
      (gateways) => {
        this.liveness.noteRegistry(gateways, startedAt);
        const live = livePeerUrls(gateways, this.ctx.gatewayId, this.ctx.now());
        this.adopt(live, startedAt);
        return live;
      },
      (err) => {
        this.ctx.log.warn({ err: errorMessage(err) }, "could not refresh the peer list; using the last known one");
        return this.urls;
      },
    );
    this.refresh = { startedAt, urls };
    void urls.finally(() => {
      if (this.refresh?.urls === urls) this.refresh = undefined;
    });
    return urls;
  }
}

/** What the reaper needs from presence, which owns this gateway's connection records. */
export interface ConnectionRecordOwner {
  /** Whether this gateway holds the connection (a record without it here is a ghost). */
  holds(connectionId: string): boolean;
  /** Each reaper pass: this gateway's records the byGateway index lists; open sockets' missing ones are put back. */
  restoreMissing(listed: ReadonlySet<string>): Promise<void>;
  /** Users whose records the reaper just removed (`removed`): presence tells their contacts if they went offline. */
  afterUserLostConnections(userIds: readonly string[], removed: ReadonlySet<string>): Promise<void>;
  /** Once per reaper pass: users whose "went offline?" check failed before are checked again. */
  recheckOffline(): Promise<void>;
}

export class GatewayRegistry {
  private readonly startedAt: number;
  /** When the registry record was last written. */
  private lastBeat: number;
  private heartbeatTimer?: NodeJS.Timeout;
  private reaperTimer?: NodeJS.Timeout;
  private stopped = false;
  private beating?: Promise<void>;
  private reaping?: Promise<void>;

  constructor(
    private readonly ctx: GatewayContext,
    private readonly deps: {
      readonly directory: ConnectionDirectory;
      readonly peers: PeerList;
      readonly connections: ConnectionRecordOwner;
    },
  ) {
    this.startedAt = ctx.now();
    this.lastBeat = this.startedAt;
  }

  /**
   * Registers this gateway before it takes connections, then heartbeats and reaps on timers. Its directory caches
   * nothing read before peers' lists are sure to show it (PeerList#peersAsOf).
   */
  async start(): Promise<void> {
    this.deps.directory.trustAnswersFrom(Infinity);
    await this.writeRecord();
    this.deps.directory.trustAnswersFrom(this.visibleToPeersFrom(this.ctx.now()));
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

  /** Shutdown, first step: no more heartbeats or reaper passes (the one in flight finishes). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.heartbeatTimer);
    clearInterval(this.reaperTimer);
    await Promise.allSettled([this.beating, this.reaping]);
  }

  /** Shutdown, once the connection records are gone: peers stop counting this gateway at once. */
  async deregister(): Promise<void> {
    await deleteGateway(this.ctx.db, this.ctx.gatewayId).catch(() => undefined);
  }

  /**
   * For a registry record written by `writtenAt`: from when every peer's list for a connect shows it — the index
   * behind listGateways lags by indexLagMs, a connect uses a list up to peerListMaxAgeMs old, clocks differ.
   */
  private visibleToPeersFrom(writtenAt: number): number {
    return writtenAt + trustWindowMs(this.ctx.settings);
  }

  private async writeRecord(): Promise<void> {
    const now = this.ctx.now();
    await putGateway(this.ctx.db, {
      gatewayId: this.ctx.gatewayId,
      internalUrl: this.ctx.internalUrl,
      startedAt: this.startedAt,
      lastSeen: now,
      expiresAt: expiry(now + this.ctx.settings.gatewayTtlMs),
    });
  }

  private async heartbeat(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.writeRecord();
      // A gap longer than half the registry TTL (a stalled event loop, failed writes): peers may have counted this
      // gateway dead and sent it no invalidations meanwhile, so no cached directory answer is trusted.
      const now = this.ctx.now();
      if (now - this.lastBeat > this.ctx.settings.gatewayTtlMs / 2) {
        this.deps.directory.clear();
        this.deps.directory.trustAnswersFrom(this.visibleToPeersFrom(now));
        this.ctx.log.warn({ gapMs: now - this.lastBeat }, "heartbeat gap: directory cache cleared");
      }
      this.lastBeat = now;
    } catch (err) {
      this.ctx.log.warn({ err: errorMessage(err) }, "gateway heartbeat failed");
    }
  }

  /**
   * Removes the connections of gateways whose registry record expired (any gateway may do it; the conditional
   * delete of the registry record makes one of them the winner), and this gateway's own records that no
   * longer have a socket (a heartbeat racing a close can re-put one).
   */
  async reap(): Promise<void> {
    const now = this.ctx.now();
    const gateways = await listGateways(this.ctx.db);
    this.deps.peers.noteRegistry(gateways, now);
    for (const g of gateways) {
      if (g.ownerGatewayId === this.ctx.gatewayId || isLive(g, now)) continue;
      const orphans = await this.removeRecords(await listConnectionsByGateway(this.ctx.db, g.ownerGatewayId));
      const won = await deleteGatewayIfExpired(this.ctx.db, g.ownerGatewayId, now);
      if (won || orphans.ids.size) {
        this.ctx.log.info({ deadGateway: g.ownerGatewayId, connections: orphans.ids.size }, "reaped dead gateway");
      }
      await this.deps.connections.afterUserLostConnections(orphans.users, orphans.ids);
    }
    const own = await listConnectionsByGateway(this.ctx.db, this.ctx.gatewayId);
    // Also the records of a previous process with this gatewayId (a restart after a crash).
    const ghosts = own.filter((o) => !this.deps.connections.holds(o.connectionId));
    if (ghosts.length) {
      const removed = await this.removeRecords(ghosts);
      await this.deps.connections.afterUserLostConnections(removed.users, removed.ids);
    }
    await this.deps.connections
      .restoreMissing(new Set(own.map((o) => o.connectionId)))
      .catch((err) => this.ctx.log.warn({ err: errorMessage(err) }, "could not put back removed connection records"));
    await this.deps.connections.recheckOffline();
  }

  /** Deletes `records` and drops their users' cached connections; answers whose they were. */
  private async removeRecords(
    records: readonly Pick<ConnectionItem, "connectionId" | "userId">[],
  ): Promise<{ users: string[]; ids: Set<string> }> {
    const ids = records.map((r) => r.connectionId);
    await deleteConnections(this.ctx.db, ids);
    const users = [...new Set(records.map((r) => r.userId))];
    for (const u of users) this.deps.directory.invalidate(u);
    return { users, ids: new Set(ids) };
  }
}
