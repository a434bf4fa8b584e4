/**
 * What every gateway part shares: config, derived settings, the DynamoDB and SQS clients, the logger, the token
 * service, the clock and this gateway's identity. Built once in server.ts; parts receive it instead of reaching
 * for globals, so tests can build their own. The local session table is not in it: the parts that need it are
 * given it in their constructors.
 */
import type { SQSClient } from "@aws-sdk/client-sqs";
import { drainTiming, type DrainTiming, type GatewayConfig, type gatewayTables } from "../contracts";
import type { Db } from "../store/db";
import type { TokenService } from "./auth";
import type { Logger } from "./logger";

export type GatewayDb = Db<(typeof gatewayTables)[number]>;

/**
 * How often an idle connection's record is written: only its backstop expiry is pushed out (liveness is the
 * registry heartbeat's), so less than twice per connection-hour.
 */
export const CONNECTION_REFRESH_MS = 45 * 60_000;

/** How far two Parley processes' clocks (gateways', the persister's) may differ; every cross-process time check allows it. */
export const CLOCK_SKEW_MS = 2_000;

/**
 * How long after its registration (or its return from a heartbeat gap) a gateway caches no directory answer:
 * until every list a peer may use for a connect's invalidation shows it (PeerList#peersAsOf). With the defaults, 9 s.
 */
export function trustWindowMs(s: Pick<GatewaySettings, "indexLagMs" | "peerListMaxAgeMs">): number {
  return s.indexLagMs + s.peerListMaxAgeMs + CLOCK_SKEW_MS;
}

/** The defaults of the settings trustWindowMs depends on. */
export const directoryTrustDefaults = { indexLagMs: 2_000, peerListMaxAgeMs: 5_000 } as const;

/** Timings and thresholds derived from the config; docs/protocol.md lists each. */
export interface GatewaySettings {
  readonly heartbeatMs: number;
  readonly presenceTtlMs: number;
  /** How often each gateway looks for dead gateways (and its own ghost records). */
  readonly reaperMs: number;
  /**
   * A gateway's registry record expires this long after its last heartbeat; its connection records count as live
   * while it has not. Shorter than the presence TTL by one reaper interval, so a crashed gateway's users are
   * reported offline within presenceTtl in total.
   */
  readonly gatewayTtlMs: number;
  /** A connection record's backstop expiry is pushed out once it was written this long ago. */
  readonly connectionRefreshMs: number;
  /**
   * A connection record's own expiry (DynamoDB TTL) after its last write: a backstop for records no reaper
   * removes (their gateway gone from the registry). Outlasts two missed refreshes.
   */
  readonly connectionTtlMs: number;
  /**
   * How long a member → live connections lookup is reused. Peers invalidate it on every connect (acknowledged,
   * retried) and disconnect, and a gateway that missed heartbeats clears it, so this is the safety net for an
   * invalidation lost for good (a new session's catch-up covers it), not the freshness.
   */
  readonly directoryTtlMs: number;
  /**
   * After a peer acknowledged an invalidation it caches no older answer; a lookup already in flight there may
   * still be used once, and is assumed to end within this time (a DynamoDB Query, index lag included).
   */
  readonly invalidatedStaleMs: number;
  /**
   * A new session checks its conversations against the table this long after the directory TTL has passed
   * since its connection record was written (covers index propagation and read lag), then fills what a peer's
   * stale directory entry kept from it.
   */
  readonly catchUpMarginMs: number;
  /**
   * How long after a connection record is written or removed the byUser index may still show the old state (AWS
   * GSIs are eventually consistent, "typically under a second"): a directory answer for a user read within this
   * long of the user's invalidation is used for the routing at hand but not cached (ConnectionDirectory#ofUser).
   */
  readonly indexLagMs: number;
  /**
   * How old the peer list may be for a connect's invalidation (PeerList#peersAsOf): a list read at most this long
   * before the connection record was written serves; an older one is read afresh, and that read serves every
   * connect of the next few seconds (a storm costs one registry read per this interval, not one per connect). A
   * gateway caches no directory answer until this long (+ indexLagMs + CLOCK_SKEW_MS) after it registered, so a
   * peer whose list predates it has nothing of it to invalidate (GatewayRegistry#start). Longer saves registry
   * reads; shorter lets a new gateway cache sooner.
   */
  readonly peerListMaxAgeMs: number;
  /**
   * A live message that overtook a missing seq waits this long for it to arrive live before the gap is read from
   * the table (delivery/outbox.ts); 0 reads at once.
   */
  readonly reorderWaitMs: number;
  /** A socket with more than this many bytes queued is a slow consumer (closed with 4008). */
  readonly slowConsumerBytes: number;
  /** RATE_LIMITED violations within a window after which the socket closes with 1008. */
  readonly maxRateViolations: number;
  readonly typingThrottleMs: number;
  readonly notifyWaitSeconds: number;
  /** Receive loops on the notification queue (0 turns the notification path off). */
  readonly notifyReceivers: number;
  /**
   * Notification batches routed at once, over all receive loops. One loop with several batches in flight keeps
   * routing concurrent without the empty receives of more loops (AWS: "to increase efficiency when polling for
   * multiple threads with multiple receives, decrease the number of threads").
   */
  readonly notifyBatchesInFlight: number;
  /**
   * Routed notifications are deleted within this many ms, several to a DeleteMessageBatch (aws/queue-consumer.ts):
   * one delete per receive was half the notification path's calls. Far inside the queue's 10 s visibility timeout.
   */
  readonly notifyDeleteWithinMs: number;
  readonly peerTimeoutMs: number;
  /**
   * An invalidation is best effort and sent while a socket connects, so it waits at most this long (capped by
   * peerTimeoutMs); a lost one is retried (presence/invalidation-retries.ts), then covered by the catch-up.
   */
  readonly invalidateTimeoutMs: number;
  readonly httpBodyLimitBytes: number;
  readonly internalBodyLimitBytes: number;
  /**
   * The deregistration watchdog (contracts/drain.ts): once the load balancer has health-checked this gateway,
   * `missedHealthChecks` intervals of silence mean it was deregistered; the gateway then closes its sockets
   * with 1001, one after another over `drainSpreadMs`.
   */
  readonly drain: DrainTiming;
}

export function deriveSettings(config: GatewayConfig, overrides: Partial<GatewaySettings> = {}): GatewaySettings {
  const presenceTtlMs = config.limits.presenceTtlSeconds * 1000;
  const reaperMs = Math.max(250, Math.min(15_000, Math.floor(presenceTtlMs / 6)));
  const connectionRefreshMs = overrides.connectionRefreshMs ?? CONNECTION_REFRESH_MS;
  return {
    heartbeatMs: config.limits.heartbeatMs,
    presenceTtlMs,
    reaperMs,
    gatewayTtlMs: presenceTtlMs - reaperMs,
    connectionRefreshMs,
    connectionTtlMs: 2 * connectionRefreshMs + presenceTtlMs,
    directoryTtlMs: 600_000,
    invalidatedStaleMs: 5_000,
    catchUpMarginMs: 2_000,
    ...directoryTrustDefaults,
    reorderWaitMs: 150,
    slowConsumerBytes: Math.max(1024 * 1024, 16 * config.limits.maxPayloadBytes),
    maxRateViolations: 20,
    typingThrottleMs: 2_000,
    // Short long-polls: a crashed gateway's pending receive can swallow messages until the visibility timeout,
    // and a graceful stop waits for the receive in flight rather than aborting it.
    notifyWaitSeconds: 3,
    notifyReceivers: 1,
    notifyBatchesInFlight: 2,
    notifyDeleteWithinMs: 250,
    peerTimeoutMs: 2_000,
    invalidateTimeoutMs: 500,
    httpBodyLimitBytes: 16 * 1024,
    internalBodyLimitBytes: 8 * 1024 * 1024,
    drain: drainTiming,
    ...overrides,
  };
}

export interface GatewayContext {
  readonly config: GatewayConfig;
  readonly settings: GatewaySettings;
  readonly gatewayId: string;
  /** Base URL peers reach this gateway's internal endpoint at. */
  readonly internalUrl: string;
  readonly db: GatewayDb;
  readonly sqs: SQSClient;
  /** The notification consumer's long polls (default `sqs`): see runtime/aws/clients.ts. */
  readonly pollSqs?: SQSClient;
  readonly log: Logger;
  readonly tokens: TokenService;
  readonly now: () => number;
}
