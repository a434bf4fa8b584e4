/**
 * The numeric settings a Parley process reads: each one's default and the range it must fall in, written once.
 * runtime/contracts/env.ts parses the env vars against these, and the stack config (components/config-keys.ts)
 * takes the keys it passes on to a process from here, so a deployed default cannot drift from the runtime's own.
 * Settings only a deployment has (task size, counts, log retention) live with their stack config key.
 */
import { DEFAULT_EDIT_WINDOW_SECONDS } from "./messages";
import { MAX_PERSISTER_BATCH, PERSISTER_TIMEOUT_SECONDS, queues } from "./queues";

/** An integer setting: used when unset, refused outside [min, max]. */
export interface IntSetting {
  readonly default: number;
  readonly min: number;
  readonly max: number;
}

/** The load balancer's idle timeout when nobody sets it (AWS's ALB default); the local stack has no ALB. */
export const ALB_DEFAULT_IDLE_TIMEOUT_SECONDS = 60;

/**
 * The presence TTL outlives three heartbeats: a gateway's registry record (which its connection records live by)
 * expires one reaper interval before it, so one late heartbeat never drops its users from presence.
 */
export function presenceTtlFloorSeconds(heartbeatMs: number): number {
  return Math.ceil((3 * heartbeatMs) / 1000);
}

const heartbeatMs = { default: 25_000, min: 1_000, max: 300_000 } as const satisfies IntSetting;

/** The gateway process (PARLEY_* env vars, `loadGatewayConfig` in runtime/contracts/gateway-config.ts). */
export const gatewaySettings = {
  /** 0 lets the OS pick a free port (tests, several gateways on one machine). */
  port: { default: 8080, min: 0, max: 65535 },
  internalPort: { default: 8081, min: 0, max: 65535 },
  heartbeatMs,
  albIdleTimeoutSeconds: { default: ALB_DEFAULT_IDLE_TIMEOUT_SECONDS, min: 1, max: 4000 },
  tokenTtlSeconds: { default: 12 * 3600, min: 60, max: 30 * 24 * 3600 },
  maxPayloadBytes: { default: 64 * 1024, min: 1024, max: 1024 * 1024 },
  rateLimitPerSecond: { default: 20, min: 1, max: 10_000 },
  rateLimitBurst: { default: 40, min: 1, max: 100_000 },
  maxConnectionsPerUser: { default: 10, min: 1, max: 1000 },
  /** The floor rises with the heartbeat (presenceTtlFloorSeconds); this one is the shortest heartbeat's. */
  presenceTtlSeconds: { default: 90, min: presenceTtlFloorSeconds(heartbeatMs.min), max: 3600 },
} as const satisfies Record<string, IntSetting>;

/**
 * A socket is idle at most one heartbeat; an idle timeout above twice that gives a missed ping room before the
 * load balancer cuts the socket.
 */
export function idleTimeoutOutlastsHeartbeat(albIdleTimeoutSeconds: number, heartbeatMs: number): boolean {
  return albIdleTimeoutSeconds * 1000 > 2 * heartbeatMs;
}

/** Conversation rules both the gateway and the persister apply (runtime/contracts/entry-rules.ts). */
export const conversationSettings = {
  /** How long after sending a message its sender may edit it (PARLEY_EDIT_WINDOW_SECONDS). */
  editWindowSeconds: { default: DEFAULT_EDIT_WINDOW_SECONDS, min: 1, max: 365 * 24 * 3600 },
} as const satisfies Record<string, IntSetting>;

/** The persister as its event source drives it: Lambda's mapping in AWS, runtime/local/runner.ts locally. */
export const persisterSettings = {
  /** Lambda's ceiling for a FIFO source. */
  batchSize: { default: MAX_PERSISTER_BATCH, min: 1, max: MAX_PERSISTER_BATCH },
  /** AWS: an SQS source's visibility timeout should be at least 6x the function timeout. */
  timeoutSeconds: {
    default: PERSISTER_TIMEOUT_SECONDS,
    min: 1,
    max: Math.floor(queues.inbound.visibilityTimeoutSeconds / 6),
  },
} as const satisfies Record<string, IntSetting>;

/** The local persister runner (PARLEY_RUNNER_* env vars): what Lambda's event source mapping does in AWS. */
export const runnerSettings = {
  concurrency: { default: 4, min: 1, max: 64 },
  batchSize: persisterSettings.batchSize,
} as const satisfies Record<string, IntSetting>;

/** pino's level names: what PARLEY_LOG_LEVEL and parley:logLevel accept. */
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export const DEFAULT_LOG_LEVEL = "info" satisfies (typeof LOG_LEVELS)[number];
