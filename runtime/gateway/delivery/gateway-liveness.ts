/**
 * Whether a connection record counts: its owning gateway is alive — its registry record, which the gateway
 * heartbeats once for all its connections, has not expired — and the record's own backstop `expiresAt` has not
 * passed. Connection records are not heartbeated, so this is what keeps a crashed gateway's users from showing
 * online: from the moment its registry record expires, readers skip its records (the reaper then removes them
 * and presence announces the users offline).
 *
 * The registry is known as of the last reaper pass or peer refresh (noteRegistry). A record that view cannot
 * judge — a gateway it does not list, or one it saw live that has expired since — is settled by a strongly
 * consistent GetItem of that gateway's registry record (one in flight per gateway), whose answer is kept too.
 */
import { getGateway, isLive, type ConnectionRoute, type GatewayItem } from "../../store/connections";
import { CLOCK_SKEW_MS, type GatewayContext } from "../context";

interface RegistryView {
  /** undefined: no registry record (deregistered, reaped, or deleted by TTL). */
  readonly item?: GatewayItem;
  /** When the read behind it started: the record was at least this fresh. */
  readonly readAt: number;
}

export class GatewayLiveness {
  private readonly known = new Map<string, RegistryView>();
  private readonly reading = new Map<string, { startedAt: number; view: Promise<RegistryView> }>();

  constructor(private readonly ctx: GatewayContext) {}

  /**
   * The registry as a read that started at `readAt` found it. Gateways missing from it are not taken as gone (the
   * listing goes through the byGateway index, which lags writes); their entries are dropped once old, so a later
   * record of theirs is looked up afresh.
   */
  noteRegistry(gateways: readonly GatewayItem[], readAt: number): void {
    const listed = new Set<string>();
    for (const item of gateways) {
      listed.add(item.ownerGatewayId);
      const prev = this.known.get(item.ownerGatewayId);
      if (!prev?.item || prev.item.lastSeen <= item.lastSeen) this.known.set(item.ownerGatewayId, { item, readAt });
    }
    for (const [id, view] of this.known) {
      if (!listed.has(id) && view.readAt < readAt - this.ctx.settings.gatewayTtlMs) this.known.delete(id);
    }
  }

  /** The records among `records` that count as live now (a registry read failing rejects: callers retry). */
  async live<C extends ConnectionRoute & { readonly expiresAt?: number }>(records: readonly C[]): Promise<C[]> {
    const verdicts = await Promise.all(records.map((r) => this.counts(r)));
    return records.filter((_, i) => verdicts[i]);
  }

  /** The owning gateway's last heartbeat as last known (for a live record's `lastSeen`). */
  lastHeartbeat(gatewayId: string): number | undefined {
    return this.known.get(gatewayId)?.item?.lastSeen;
  }

  private async counts(r: ConnectionRoute & { readonly expiresAt?: number }): Promise<boolean> {
    const now = this.ctx.now();
    // Index answers carry no expiresAt (not projected); base-table reads do.
    if (r.expiresAt !== undefined && !isLive({ expiresAt: r.expiresAt }, now)) return false;
    // Whether this gateway still holds it is the router's check (a socket here, or the record is stale).
    if (r.gatewayId === this.ctx.gatewayId) return true;
    const view = this.known.get(r.gatewayId);
    if (view?.item && isLive(view.item, now)) return true;
    // Gone at a read made after the record was written: the gateway was dead with the record in place.
    if (view && view.readAt >= r.connectedAt + CLOCK_SKEW_MS && !(view.item && isLive(view.item, view.readAt))) {
      return false;
    }
    const fresh = await this.read(r.gatewayId, r.connectedAt);
    return fresh.item !== undefined && isLive(fresh.item, this.ctx.now());
  }

  /** Reads a gateway's registry record, joining a read in flight that started after `notBefore` (less skew). */
  private read(gatewayId: string, notBefore: number): Promise<RegistryView> {
    const pending = this.reading.get(gatewayId);
    if (pending && pending.startedAt + CLOCK_SKEW_MS >= notBefore) return pending.view;
    const startedAt = this.ctx.now();
    const view = getGateway(this.ctx.db, gatewayId)
      .then((item) => {
        const read: RegistryView = { item, readAt: startedAt };
        const prev = this.known.get(gatewayId);
        if (!prev || prev.readAt <= startedAt) this.known.set(gatewayId, read);
        return read;
      })
      .finally(() => {
        if (this.reading.get(gatewayId)?.view === view) this.reading.delete(gatewayId);
      });
    this.reading.set(gatewayId, { startedAt, view });
    return view;
  }
}
