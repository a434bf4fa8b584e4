/**
 * The shapes the burst and the storm report (bench/burst.ts, bench/storm.ts) and latest.json carries: owned here
 * so the phases and the report (bench/report.ts) share them without importing each other.
 */
import type { DeliveryCounts, LatencySummary } from "./latency";
import type { CallCounts, CpuSnapshot } from "./metrics";

export interface BurstSystemReport extends DeliveryCounts {
  readonly accepted: number;
  /** Burst instant → the last expected delivery; null while any is missing. */
  readonly allDeliveredMs: number | null;
  /** Per delivery, from the burst instant. */
  readonly latency: LatencySummary;
  readonly cpuSeconds: CpuSnapshot;
  readonly cpuPer1kDeliveries: Record<string, number>;
  /** Outgoing calls per burst message, by process and operation (Parley: AWS and peer HTTP). */
  readonly callsPerMessage: CallCounts;
}

export interface BurstReport {
  readonly messages: number;
  readonly systems: BurstSystemReport[];
}

/** Calls, writes and CPU of some work, net of what the same processes do idle over the same time. */
export interface WorkCost {
  /** Calls by process and operation, per unit of work (connect, reconnected client). */
  readonly calls: CallCounts;
  readonly callsTotal: number;
  /** DynamoDB write requests (BatchWriteItem: per item), per unit, by `call table`. */
  readonly dynamoWrites: Record<string, number>;
  readonly dynamoWritesTotal: number;
  /** CPU milliseconds per unit, by process (`harness` is the load generator). */
  readonly cpuMs: Record<string, number>;
}

export interface ConnectCost extends WorkCost {
  /** Clients that disconnected and connected again (a sample across the population). */
  readonly connects: number;
  /** Connecting all of them (16 at a time, as the bench's connect-all), until the last `ready`. */
  readonly seconds: number;
  /** Metered window (connects plus CONNECT_TAIL_MS). */
  readonly windowS: number;
}

export interface StormReport {
  readonly killed: string;
  readonly survivors: string[];
  /** Clients that were on the killed gateway. */
  readonly affected: number;
  readonly reconnected: number;
  /** Connection attempts that failed and were retried (backoff as in the bench's connect). */
  readonly reconnectRetries: number;
  readonly failedReconnects: number;
  /** Kill → every affected client connected again (`ready`). */
  readonly reconnectedMs: number | null;
  /** Kill → every affected client connected, synced and holding every message stored for its conversation. */
  readonly settledMs: number | null;
  /** Per affected client, from the kill. */
  readonly perClient: { ready: LatencySummary; caughtUp: LatencySummary };
  readonly notCaughtUp: number;
  /** Affected clients behind their conversation's lastSeq in the table when the storm was over (should be 0). */
  readonly behindTable: number;
  /** Messages sent during the outage (one per conversation, from a member on a surviving gateway). */
  readonly outage: {
    readonly sent: number;
    readonly accepted: number;
    readonly expected: number;
    readonly delivered: number;
    readonly duplicates: number;
    readonly orderViolations: number;
    /** Seqs a client already had, repeated by `sync` and dropped by the client (dedupe by seq, as specified). */
    readonly syncRepeats: number;
    readonly errors: Record<string, number>;
    /** Kill → each delivery (live to the survivors, live or by sync to the reconnected). */
    readonly latency: LatencySummary;
  };
  /** Metered window: kill → settled, or the last reconnect plus CONNECT_TAIL_MS if later. */
  readonly windowS: number;
  readonly cpuSeconds: CpuSnapshot;
  /** Everything the storm cost (outage messages included), per reconnected client. */
  readonly perReconnectedClient: WorkCost;
  /** The same totals, for the whole storm. */
  readonly totals: { calls: CallCounts; dynamoWrites: Record<string, number> };
  readonly connect: ConnectCost;
}
