/**
 * routeToConnections: hand serialized frames to live connections — push to sockets held here (local.ts), forward
 * the rest to their owning gateways (peer.ts), one request per gateway per batch, and remove the records of
 * connections nobody holds any more. A peer that refuses the internal secret is alive: its records are never
 * removed for a refusal.
 */
import { deleteConnections, type ConnectionRoute } from "../../store/connections";
import type { GatewayContext } from "../context";
import type { LocalSessions, MessageRef } from "../sessions";
import { errorMessage } from "../util";
import type { ConnectionDirectory } from "./directory";
import { pushToLocal } from "./local";
import { PeerClient, PeerRefusedError } from "./peer";
import type { Delivery } from "./peer-protocol";

export interface Outgoing {
  /** Serialized once, whatever the number of recipients. */
  readonly frame: string;
  readonly message?: MessageRef;
  readonly connections: readonly ConnectionRoute[];
}

export interface RouteStats {
  local: number;
  forwarded: number;
  removed: number;
  /** Connections on peers that refused our internal secret: not delivered live, records kept. */
  refused: number;
}

export interface RouterOptions {
  /**
   * Told which users lost connection records here (and which records are gone for certain: empty when the delete
   * failed), so presence can announce those who went offline.
   */
  readonly onRecordsRemoved?: (userIds: string[], removedConnectionIds: string[]) => void;
  /** How deliveries reach other gateways; one is built from the context when not given. */
  readonly peers?: PeerClient;
}

/** The deliveries for one peer gateway, and the records of the connections they name. */
interface PeerBatch {
  readonly deliveries: Delivery[];
  readonly owners: Map<string, ConnectionRoute>;
}

export class Router {
  private readonly peers: PeerClient;

  constructor(
    private readonly ctx: GatewayContext,
    private readonly sessions: LocalSessions,
    private readonly directory: ConnectionDirectory,
    private readonly options: RouterOptions = {},
  ) {
    this.peers = options.peers ?? new PeerClient(ctx);
  }

  async routeToConnections(outgoing: readonly Outgoing[]): Promise<RouteStats> {
    const stats: RouteStats = { local: 0, forwarded: 0, removed: 0, refused: 0 };
    const stale: ConnectionRoute[] = [];
    const remote = new Map<string, PeerBatch>();
    for (const o of outgoing) {
      // One delivery per frame per peer, however many of its sockets receive it.
      const perPeer = new Map<string, Delivery>();
      const seen = new Set<string>();
      for (const c of o.connections) {
        if (seen.has(c.connectionId)) continue;
        seen.add(c.connectionId);
        if (c.gatewayId === this.ctx.gatewayId) {
          if (pushToLocal(this.sessions, c.connectionId, o.frame, o.message)) stats.local++;
          else stale.push(c);
          continue;
        }
        let peer = remote.get(c.internalUrl);
        if (!peer) remote.set(c.internalUrl, (peer = { deliveries: [], owners: new Map() }));
        let d = perPeer.get(c.internalUrl);
        if (!d) {
          d = { frame: o.frame, connectionIds: [], ...(o.message ? { message: o.message } : {}) };
          perPeer.set(c.internalUrl, d);
          peer.deliveries.push(d);
        }
        d.connectionIds.push(c.connectionId);
        peer.owners.set(c.connectionId, c);
      }
    }
    await Promise.all([...remote].map(([url, peer]) => this.forwardTo(url, peer, stats, stale)));
    if (stale.length) stats.removed = await this.removeStale(stale);
    return stats;
  }

  /** Sends `frame` to every live connection of `userIds` (ephemeral frames: typing, read, presence). */
  async toUsers(userIds: Iterable<string>, frame: string): Promise<RouteStats> {
    const connections = await this.directory.liveConnections(userIds);
    return this.routeToConnections([{ frame, connections }]);
  }

  /** Forwards one peer's batch; the connections it no longer holds (or all, if it is gone) go to `stale`. */
  private async forwardTo(url: string, peer: PeerBatch, stats: RouteStats, stale: ConnectionRoute[]): Promise<void> {
    try {
      const missing = await this.peers.forward(url, peer.deliveries);
      stats.forwarded += peer.owners.size - missing.length;
      for (const id of missing) {
        const c = peer.owners.get(id);
        if (c) stale.push(c);
      }
    } catch (err) {
      if (err instanceof PeerRefusedError) {
        // Alive but holding another generation of the secret (or a misconfigured one): removing its records
        // would take its users offline for nothing. These frames are not delivered live; a stored message
        // reaches the socket by the session's gap fill on the next one, or by sync on reconnect.
        this.ctx.log.warn(
          { peer: url, status: err.status, connections: peer.owners.size },
          "peer gateway refused our internal secret; keeping its records",
        );
        stats.refused += peer.owners.size;
        return;
      }
      // The owner is gone or wedged: its records are removed, and if it is alive its next heartbeat puts
      // them back. Its clients resync on reconnect, so nothing stored is lost to them.
      this.ctx.log.warn({ peer: url, err: errorMessage(err) }, "peer gateway unavailable; removing its records");
      stale.push(...peer.owners.values());
    }
  }

  /** Deletes records no gateway holds a socket for and tells the removal listener; answers how many. */
  private async removeStale(stale: readonly ConnectionRoute[]): Promise<number> {
    // The same stale record is listed once per frame it was meant for; deleteConnections sends each key once.
    const ids = [...new Set(stale.map((c) => c.connectionId))];
    for (const c of stale) this.directory.invalidate(c.userId);
    const removed = await deleteConnections(this.ctx.db, ids).then(
      () => ids,
      (err) => {
        this.ctx.log.warn({ err: errorMessage(err) }, "could not remove stale connection records");
        return [];
      },
    );
    this.options.onRecordsRemoved?.([...new Set(stale.map((c) => c.userId))], removed);
    return ids.length;
  }
}
