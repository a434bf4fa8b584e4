/**
 * The shapes the burst, the storm and the mixed workload report (bench/burst.ts, bench/storm.ts, bench/mix.ts)
 * and latest.json carries: owned here so the phases and the report (bench/report.ts) share them without importing
 * each other.
 */
import type { DeliveryCounts, LatencySummary } from "./latency";
import type { CallCounts, CpuSnapshot } from "./metrics";
import type { CostBreakdown } from "./pricing";

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
  /** AWS calls only; peer HTTP requests are in `calls` (as "http") and in `peerHttpTotal`. */
  readonly callsTotal: number;
  readonly peerHttpTotal: number;
  /** DynamoDB write requests (BatchWriteItem: per item), per unit, by `call table`. */
  readonly dynamoWrites: Record<string, number>;
  readonly dynamoWritesTotal: number;
  /** CPU milliseconds per unit, by process (`harness` is the load generator). */
  readonly cpuMs: Record<string, number>;
}

export interface ConnectCost extends WorkCost {
  /** Clients that disconnected and connected again (a sample across the population). */
  readonly connects: number;
  /** Connecting all of them (CONNECT_CONCURRENCY at a time, as the bench's connect-all), until the last `ready`. */
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

/** What became of one kind's entries in one phase of the mixed workload (bench/mix.ts). */
export interface MixKindCounts {
  /** Entries of this kind in the phase's plan. */
  readonly planned: number;
  /** Frames sent; the rest were skipped for want of a target (no recent message, no own message, nothing unread). */
  readonly sent: number;
  readonly skipped: number;
  /** `accepted` frames; for receipts, the reader's own `read` receipt (the read position moved). */
  readonly accepted: number;
  readonly errors: Record<string, number>;
  /** Every member but the sender, per sent entry (per moved read for receipts), less entries refused with an error. */
  readonly expected: number;
  readonly delivered: number;
  readonly duplicates: number;
  /** Intended send time → each delivery to another member. */
  readonly latency: LatencySummary;
}

/** One phase's metered cost, per entry sent in it. */
export interface MixPhaseCost {
  readonly entries: number;
  /** Seconds metered: first intended send until deliveries stopped. */
  readonly seconds: number;
  /** Calls per entry by process and operation, as the main phases count them (background included). */
  readonly callsPerEntry: CallCounts;
  readonly callsPerEntryTotal: number;
  /** The same net of the quiet baseline's rate over the phase's seconds (polls, heartbeats, reaper passes). */
  readonly netCallsPerEntry: CallCounts;
  readonly netCallsPerEntryTotal: number;
  readonly costPerMillionUsd: CostBreakdown;
  readonly netCostPerMillionUsd: CostBreakdown;
}

export interface MixKindReport {
  readonly kind: string;
  /** The kind's percent in `--mix`. */
  readonly sharePct: number;
  /** In the mixed phase. */
  readonly mixed: MixKindCounts;
  /** In the kind's own phase (this kind only, same rate and duration): its calls are this kind's cost. */
  readonly isolated: MixKindCounts & { readonly cost: MixPhaseCost };
}

export interface MixReport {
  readonly shares: Record<string, number>;
  readonly rate: number;
  readonly durationS: number;
  /** The quiet window before the mix whose rates the net figures subtract. */
  readonly baselineS: number;
  readonly kinds: MixKindReport[];
  readonly mixed: {
    readonly cost: MixPhaseCost;
    /** Per-conversation seq going down at a receiver (live delivery must be in order). */
    readonly orderViolations: number;
    /** Σ over kinds of (entries sent in the mixed phase × that kind's isolated net figure) ÷ entries. */
    readonly predictedNetCallsPerEntry: number;
    readonly predictedNetCostPerMillionUsd: number;
  };
}
