/**
 * Connect invalidations that some peer did not acknowledge, sent again. A peer that missed one may keep routing
 * past the new connection for its whole directory TTL; a retry that reaches it shortens that to the next round.
 * Retries of every pending connection are sent together — one registry read per round and one request per peer
 * naming all the users it has not acknowledged — so a reconnect storm after a peer died costs a few requests,
 * not a few per connection.
 */
import type { GatewayContext } from "../context";
import type { PeerClient } from "../delivery/peer";
import { errorMessage } from "../util";
import type { PeerList } from "./registry";

/**
 * Pauses before each retry of one connection's invalidation (cumulative ≈ 2 min, past a dead gateway's registry
 * expiry, after which it is no longer asked).
 */
export const INVALIDATION_RETRY_MS = [1_000, 3_000, 10_000, 30_000, 90_000] as const;
/** Retries due within this window of a round are sent in it. */
const ROUND_COALESCE_MS = 500;
/** The peer protocol's bound on the users one invalidation names (peer-protocol.ts). */
const USERS_PER_REQUEST = 1000;

export interface InvalidationRetryDeps {
  readonly peers: Pick<PeerList, "refreshPeers">;
  readonly peerClient: Pick<PeerClient, "unacknowledged">;
  /** Whether the connection is still open here: a closed one needs no retry. */
  readonly holds: (connectionId: string) => boolean;
}

interface Pending {
  readonly connectionId: string;
  readonly userId: string;
  /** Peers that acknowledged this connection's invalidation. */
  readonly acked: Set<string>;
  attempt: number;
  dueAt: number;
  readonly settle: (reached: boolean) => void;
}

export class InvalidationRetries {
  private readonly pending = new Set<Pending>();
  private timer?: NodeJS.Timeout;
  private round?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly ctx: GatewayContext,
    private readonly deps: InvalidationRetryDeps,
  ) {}

  /**
   * Retries `userId`'s invalidation for `connectionId` until every peer then live acknowledged it (true), or the
   * connection closed, the gateway stopped or the retries ran out (false). A peer that left the registry is gone
   * and so is its cache; one that joined may be a restarted or re-addressed gateway and is asked too.
   */
  add(connectionId: string, userId: string, acked: Iterable<string>): Promise<boolean> {
    if (this.stopped) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const entry: Pending = {
        connectionId,
        userId,
        acked: new Set(acked),
        attempt: 0,
        dueAt: this.ctx.now() + INVALIDATION_RETRY_MS[0],
        settle: (reached) => {
          this.pending.delete(entry);
          resolve(reached);
        },
      };
      this.pending.add(entry);
      this.schedule();
    });
  }

  get size(): number {
    return this.pending.size;
  }

  /** Settles every pending retry as not reached and waits for a round in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.round;
    for (const e of [...this.pending]) e.settle(false);
  }

  private schedule(): void {
    if (this.stopped || this.round || !this.pending.size) return;
    const next = Math.min(...[...this.pending].map((e) => e.dueAt));
    clearTimeout(this.timer);
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.round = this.runRound()
          .catch((err) => this.ctx.log.warn({ err: errorMessage(err) }, "invalidation retry round failed"))
          .finally(() => {
            this.round = undefined;
            this.schedule();
          });
      },
      Math.max(0, next - this.ctx.now()),
    );
    this.timer.unref();
  }

  private async runRound(): Promise<void> {
    const due = [...this.pending].filter((e) => e.dueAt <= this.ctx.now() + ROUND_COALESCE_MS);
    const open = due.filter((e) => {
      if (this.deps.holds(e.connectionId)) return true;
      e.settle(false);
      return false;
    });
    if (!open.length || this.stopped) return;
    const live = await this.deps.peers.refreshPeers();
    await Promise.all(
      live.map(async (peer) => {
        const waiting = open.filter((e) => !e.acked.has(peer));
        for (let i = 0; i < waiting.length; i += USERS_PER_REQUEST) {
          const chunk = waiting.slice(i, i + USERS_PER_REQUEST);
          const userIds = [...new Set(chunk.map((e) => e.userId))];
          const changes = chunk.map((e) => ({ userId: e.userId, connectionId: e.connectionId, open: true }));
          const missed = await this.deps.peerClient.unacknowledged([peer], { userIds, changes });
          if (!missed.length) for (const e of chunk) e.acked.add(peer);
        }
      }),
    );
    const now = this.ctx.now();
    let reached = 0;
    let gaveUp = 0;
    for (const e of open) {
      if (live.every((p) => e.acked.has(p))) {
        e.settle(true);
        reached++;
      } else if (++e.attempt >= INVALIDATION_RETRY_MS.length) {
        e.settle(false);
        gaveUp++;
      } else e.dueAt = now + INVALIDATION_RETRY_MS[e.attempt]!;
    }
    this.ctx.log.info({ reached, gaveUp, pending: this.pending.size }, "invalidation retry round");
  }
}
