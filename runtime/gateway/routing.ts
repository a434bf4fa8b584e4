/**
 * routeToConnections: hand serialized frames to live connections — push to sockets held here, forward the rest
 * to their owning gateways' internal endpoints, one request per gateway per batch. A peer that refuses the
 * internal secret is alive (a rotation is rolling through the fleet): it is offered the previous value, and
 * its records are never removed for a refusal.
 */
import { deleteConnections, type ConnectionItem } from "../store/connections";
import type { GatewayContext } from "./context";
import type { ConnectionDirectory } from "./directory";
import { deliverResponseSchema, INTERNAL_SECRET_HEADER, internalPaths, type Delivery } from "./internal";
import { presentedSecrets } from "./secrets";
import type { LocalSessions, MessageRef } from "./sessions";
import { errorMessage } from "./util";

export interface Outgoing {
  /** Serialized once, whatever the number of recipients. */
  readonly frame: string;
  readonly message?: MessageRef;
  readonly connections: readonly ConnectionItem[];
}

export class PeerUnavailableError extends Error {
  constructor(url: string, cause: string) {
    super(`peer ${url} did not answer: ${cause}`);
    this.name = "PeerUnavailableError";
  }
}

/** The peer answered, but refused every internal secret value this gateway may present (401/403). */
export class PeerRefusedError extends Error {
  constructor(
    url: string,
    readonly status: number,
  ) {
    super(`peer ${url} refused our internal secret: HTTP ${status}`);
    this.name = "PeerRefusedError";
  }
}

const isRefusal = (status: number): boolean => status === 401 || status === 403;

export interface RouteStats {
  local: number;
  forwarded: number;
  removed: number;
  /** Connections on peers that refused our internal secret: not delivered live, records kept. */
  refused: number;
}

export class Router {
  /**
   * Told which users lost connection records here (and which records are gone for certain: empty when the delete
   * failed), so presence can announce those who went offline.
   */
  onRecordsRemoved?: (userIds: string[], removedConnectionIds: string[]) => void;

  constructor(
    private readonly ctx: GatewayContext,
    private readonly sessions: LocalSessions,
    private readonly directory: ConnectionDirectory,
  ) {}

  async routeToConnections(outgoing: readonly Outgoing[]): Promise<RouteStats> {
    const stats: RouteStats = { local: 0, forwarded: 0, removed: 0, refused: 0 };
    const stale: ConnectionItem[] = [];
    const remote = new Map<string, { deliveries: Delivery[]; owners: Map<string, ConnectionItem> }>();
    for (const o of outgoing) {
      // One delivery per frame per peer, however many of its sockets receive it.
      const perPeer = new Map<string, Delivery>();
      const seen = new Set<string>();
      for (const c of o.connections) {
        if (seen.has(c.connectionId)) continue;
        seen.add(c.connectionId);
        if (c.gatewayId === this.ctx.gatewayId) {
          const s = this.sessions.get(c.connectionId);
          if (!s) {
            stale.push(c);
            continue;
          }
          if (o.message) s.pushMessage(o.message, o.frame);
          else s.push(o.frame);
          stats.local++;
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
    await Promise.all(
      [...remote].map(async ([url, peer]) => {
        try {
          const missing = await this.forward(url, peer.deliveries);
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
      }),
    );
    if (stale.length) {
      // The same stale record is listed once per frame it was meant for; deleteConnections sends each key once.
      const ids = [...new Set(stale.map((c) => c.connectionId))];
      stats.removed = ids.length;
      for (const c of stale) this.directory.invalidate(c.userId);
      const removed = await deleteConnections(this.ctx.db, ids).then(
        () => ids,
        (err) => {
          this.ctx.log.warn({ err: errorMessage(err) }, "could not remove stale connection records");
          return [];
        },
      );
      this.onRecordsRemoved?.([...new Set(stale.map((c) => c.userId))], removed);
    }
    return stats;
  }

  /** Sends `frame` to every live connection of `userIds` (ephemeral frames: typing, read, presence). */
  async toUsers(userIds: Iterable<string>, frame: string): Promise<RouteStats> {
    const connections = await this.directory.liveConnections(userIds);
    return this.routeToConnections([{ frame, connections }]);
  }

  private async forward(url: string, deliveries: Delivery[]): Promise<string[]> {
    let lastError = "";
    const body = JSON.stringify({ deliveries });
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const res = await this.postToPeer(url + internalPaths.deliver, body, this.ctx.settings.peerTimeoutMs);
        if (res.ok) return deliverResponseSchema.parse(await res.json()).missing;
        await res.body?.cancel();
        if (isRefusal(res.status)) throw new PeerRefusedError(url, res.status);
        lastError = `HTTP ${res.status}`;
        // A 4xx means we sent something wrong; retrying will not help.
        if (res.status < 500) break;
      } catch (err) {
        if (err instanceof PeerRefusedError) throw err;
        lastError = errorMessage(err);
      }
    }
    throw new PeerUnavailableError(url, lastError);
  }

  /**
   * POSTs to a peer's internal endpoint with the current internal secret; a peer that refuses it (started
   * before a rotation) is asked again with the previous value while that is in force. Answers the last response.
   */
  private async postToPeer(target: string, body: string, timeoutMs: number): Promise<Response> {
    const { internalSecret, internalSecretRotation } = this.ctx.config;
    const secrets = presentedSecrets(internalSecret, internalSecretRotation, this.ctx.now());
    for (let i = 0; ; i++) {
      const res = await fetch(target, {
        method: "POST",
        headers: { "content-type": "application/json", [INTERNAL_SECRET_HEADER]: secrets[i]! },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (i === secrets.length - 1 || !isRefusal(res.status)) return res;
      await res.body?.cancel();
    }
  }

  /**
   * Best effort: asks other live gateways to forget cached state — `userIds`' live connections, `contacts`'
   * co-member lists. A lost request is not retried: callers bound the staleness it leaves by other means (the
   * directory TTL with a new session's catch-up; a message notification naming a conversation a cached contact
   * list lacks).
   */
  async invalidatePeers(
    peerUrls: readonly string[],
    what: { readonly userIds?: readonly string[]; readonly contacts?: readonly string[] },
  ): Promise<void> {
    const body = JSON.stringify({ userIds: what.userIds ?? [], contacts: what.contacts ?? [] });
    await Promise.all(
      peerUrls.map((url) =>
        this.postToPeer(
          url + internalPaths.invalidate,
          body,
          Math.min(this.ctx.settings.invalidateTimeoutMs, this.ctx.settings.peerTimeoutMs),
        )
          .then((r) => r.body?.cancel())
          .catch(() => undefined),
      ),
    );
  }
}
