/**
 * The gateway process's config: its env vars (runtime/contracts/env.ts names them) parsed into a typed
 * GatewayConfig, integers against runtime/contracts/settings.ts, secrets through rotating-secret.ts.
 */
import {
  ConfigError,
  env,
  intVar,
  loadAwsConfig,
  loadQueueUrl,
  loadTableNames,
  requiredVar,
  type AwsConfig,
  type Env,
  loadEditWindowMs,
} from "./env";
import { parseRotatingSecret, type SecretRotation } from "./rotating-secret";
import { DEFAULT_LOG_LEVEL, gatewaySettings, presenceTtlFloorSeconds } from "./settings";
import type { TableKey, TableNames } from "./tables";

/** Tables the gateway touches (everything but dedupe, which only the persister needs; auth is the gateway's alone). */
export const gatewayTables = [
  "users",
  "userNames",
  "conversations",
  "memberships",
  "messages",
  "connections",
  "auth",
] as const satisfies readonly TableKey[];

export interface GatewayLimits {
  /** ws maxPayload: larger frames close the socket with 1009. */
  readonly maxPayloadBytes: number;
  readonly rateLimitPerSecond: number;
  readonly rateLimitBurst: number;
  readonly maxConnectionsPerUser: number;
  /** Ping interval; a peer silent for two intervals is terminated. */
  readonly heartbeatMs: number;
  /** Connection records expire this long after their last heartbeat (presence bound). */
  readonly presenceTtlSeconds: number;
}

export interface GatewayConfig {
  readonly aws: AwsConfig;
  readonly tables: Pick<TableNames, (typeof gatewayTables)[number]>;
  readonly inboundQueueUrl: string;
  readonly notifyQueueUrl: string;
  readonly port: number;
  readonly internalPort: number;
  /** Host peers reach this gateway's internal port at; in ECS read from task metadata when unset. */
  readonly advertiseHost?: string;
  readonly gatewayId?: string;
  readonly bindHost: string;
  readonly healthNonce?: string;
  /** The current JWT secret: signs every token this gateway issues. */
  readonly jwtSecret: string;
  /** The current internal secret: what this gateway presents to peers first. */
  readonly internalSecret: string;
  /** Other values still accepted during a rotation of either secret; absent for a plain value. */
  readonly jwtSecretRotation?: SecretRotation;
  readonly internalSecretRotation?: SecretRotation;
  readonly jwtIssuer: string;
  readonly jwtAudience: string;
  readonly tokenTtlSeconds: number;
  readonly allowedOrigins: readonly string[];
  readonly webDir?: string;
  readonly logLevel: string;
  /** Idle timeout of the load balancer in front (keep-alive must outlast it). */
  readonly albIdleTimeoutSeconds: number;
  readonly limits: GatewayLimits;
  /** How long after sending a message may be edited (PARLEY_EDIT_WINDOW_SECONDS; the persister reads it too). */
  readonly editWindowMs: number;
}

/** An origin as browsers send it: scheme and host (and port), no path. */
export const ORIGIN_PATTERN = /^https?:\/\/[^/\s]+$/;

export function loadGatewayConfig(e: Env): GatewayConfig {
  const origins = requiredVar(e, env.allowedOrigins)
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const o of origins) {
    if (!ORIGIN_PATTERN.test(o)) {
      throw new ConfigError(`${env.allowedOrigins} entries must be origins like https://chat.example.com, got "${o}"`);
    }
  }
  // Each integer's env var is named by the same key as its setting.
  const int = (key: keyof typeof gatewaySettings) => intVar(e, env[key], gatewaySettings[key]);
  const heartbeatMs = int("heartbeatMs");
  const jwt = parseRotatingSecret(env.jwtSecret, requiredVar(e, env.jwtSecret));
  const internal = parseRotatingSecret(env.internalSecret, requiredVar(e, env.internalSecret));
  return {
    aws: loadAwsConfig(e),
    tables: loadTableNames(e, gatewayTables),
    inboundQueueUrl: loadQueueUrl(e, "inbound"),
    notifyQueueUrl: loadQueueUrl(e, "notify"),
    port: int("port"),
    internalPort: int("internalPort"),
    advertiseHost: e[env.advertiseHost]?.trim() || undefined,
    gatewayId: e[env.gatewayId]?.trim() || undefined,
    bindHost: e[env.bindHost]?.trim() || "0.0.0.0",
    healthNonce: e[env.healthNonce]?.trim() || undefined,
    jwtSecret: jwt.current,
    internalSecret: internal.current,
    ...(jwt.rotation ? { jwtSecretRotation: jwt.rotation } : {}),
    ...(internal.rotation ? { internalSecretRotation: internal.rotation } : {}),
    jwtIssuer: e[env.jwtIssuer]?.trim() || "parley",
    jwtAudience: e[env.jwtAudience]?.trim() || "parley-web",
    tokenTtlSeconds: int("tokenTtlSeconds"),
    allowedOrigins: origins,
    webDir: e[env.webDir]?.trim() || undefined,
    logLevel: e[env.logLevel]?.trim() || DEFAULT_LOG_LEVEL,
    albIdleTimeoutSeconds: int("albIdleTimeoutSeconds"),
    editWindowMs: loadEditWindowMs(e),
    limits: {
      maxPayloadBytes: int("maxPayloadBytes"),
      rateLimitPerSecond: int("rateLimitPerSecond"),
      rateLimitBurst: int("rateLimitBurst"),
      maxConnectionsPerUser: int("maxConnectionsPerUser"),
      heartbeatMs,
      presenceTtlSeconds: intVar(e, env.presenceTtlSeconds, {
        ...gatewaySettings.presenceTtlSeconds,
        min: presenceTtlFloorSeconds(heartbeatMs),
      }),
    },
  };
}

/** The gateway container's secret env vars: injected by ECS from Secrets Manager or SSM, never in the plain environment. */
export const gatewaySecretEnvVars = [env.jwtSecret, env.internalSecret] as const;
