/**
 * Every environment variable a Parley process reads, and the parsers shared by every process (AWS endpoints,
 * table names, queue URLs, integers against runtime/contracts/settings.ts) with the persister's config.
 * The Pulumi components set exactly these names; the local stack does the same. The gateway's own config is
 * runtime/contracts/gateway-config.ts.
 */
import { z } from "zod";
import { LOCAL_REGION } from "./local";
import { queues, type QueueKey } from "./queues";
import { conversationSettings, type IntSetting } from "./settings";
import { tables, tableKeys, type TableKey, type TableNames } from "./tables";

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

export const env = {
  region: "AWS_REGION",
  /** Local only: point the SDKs at the emulators. Unset in AWS. */
  dynamodbEndpoint: "PARLEY_DYNAMODB_ENDPOINT",
  sqsEndpoint: "PARLEY_SQS_ENDPOINT",
  /** Local only: which DynamoDB emulator runtime/local/emulators.ts starts (see loadLocalDynamodb). */
  localDynamodb: "PARLEY_LOCAL_DYNAMODB",
  logLevel: "PARLEY_LOG_LEVEL",
  // gateway
  port: "PARLEY_PORT",
  internalPort: "PARLEY_INTERNAL_PORT",
  advertiseHost: "PARLEY_ADVERTISE_HOST",
  /** Interface both servers listen on: 0.0.0.0 in the container, 127.0.0.1 for `npm start` unless --host. */
  bindHost: "PARLEY_BIND_HOST",
  /** Echoed by /healthz, so the launcher never mistakes another process on the same port for its gateway. */
  healthNonce: "PARLEY_HEALTH_NONCE",
  gatewayId: "PARLEY_GATEWAY_ID",
  jwtSecret: "PARLEY_JWT_SECRET",
  internalSecret: "PARLEY_INTERNAL_SECRET",
  jwtIssuer: "PARLEY_JWT_ISSUER",
  jwtAudience: "PARLEY_JWT_AUDIENCE",
  tokenTtlSeconds: "PARLEY_TOKEN_TTL_SECONDS",
  allowedOrigins: "PARLEY_ALLOWED_ORIGINS",
  webDir: "PARLEY_WEB_DIR",
  maxPayloadBytes: "PARLEY_MAX_PAYLOAD_BYTES",
  rateLimitPerSecond: "PARLEY_RATE_LIMIT_PER_SECOND",
  rateLimitBurst: "PARLEY_RATE_LIMIT_BURST",
  maxConnectionsPerUser: "PARLEY_MAX_CONNECTIONS_PER_USER",
  heartbeatMs: "PARLEY_HEARTBEAT_MS",
  /** The load balancer's idle timeout; the gateway's keep-alive is set above it. Unset locally: 60 (the ALB default). */
  albIdleTimeoutSeconds: "PARLEY_ALB_IDLE_TIMEOUT_SECONDS",
  presenceTtlSeconds: "PARLEY_PRESENCE_TTL_SECONDS",
  /** Gateway and persister: how long after sending a message may be edited (both must agree). */
  editWindowSeconds: "PARLEY_EDIT_WINDOW_SECONDS",
  // local persister runner (Lambda's event source mapping has these as settings)
  runnerConcurrency: "PARLEY_RUNNER_CONCURRENCY",
  runnerBatchSize: "PARLEY_RUNNER_BATCH_SIZE",
} as const;

export type Env = Record<string, string | undefined>;

export function requiredVar(e: Env, name: string): string {
  const v = e[name];
  if (v === undefined || v.trim() === "") throw new ConfigError(`${name} is required`);
  return v.trim();
}

function optionalUrl(e: Env, name: string): string | undefined {
  const v = e[name]?.trim();
  if (!v) return undefined;
  if (!z.url().safeParse(v).success) throw new ConfigError(`${name} must be a URL, got "${v}"`);
  return v;
}

/** An integer env var, `setting.default` when unset; refused outside the setting's range. */
export function intVar(e: Env, name: string, setting: IntSetting): number {
  const raw = e[name]?.trim();
  if (!raw) return setting.default;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < setting.min || n > setting.max) {
    throw new ConfigError(`${name} must be an integer in [${setting.min}, ${setting.max}], got "${raw}"`);
  }
  return n;
}

export interface AwsConfig {
  readonly region: string;
  readonly dynamodbEndpoint?: string;
  readonly sqsEndpoint?: string;
}

export function loadAwsConfig(e: Env): AwsConfig {
  return {
    // In Lambda and ECS AWS_REGION is always set; a process without it is a local one.
    region: e[env.region]?.trim() || LOCAL_REGION,
    dynamodbEndpoint: optionalUrl(e, env.dynamodbEndpoint),
    sqsEndpoint: optionalUrl(e, env.sqsEndpoint),
  };
}

/** Local DynamoDB backends: dynalite (default, fast, lenient) or AWS's DynamoDB Local (Java, closer to AWS). */
export const localDynamodbBackends = ["dynalite", "dynamodb-local"] as const;
export type LocalDynamodb = (typeof localDynamodbBackends)[number];

export function loadLocalDynamodb(e: Env): LocalDynamodb {
  const v = e[env.localDynamodb]?.trim();
  if (!v) return "dynalite";
  const backend = localDynamodbBackends.find((b) => b === v);
  if (!backend) {
    throw new ConfigError(`${env.localDynamodb} must be one of ${localDynamodbBackends.join(", ")}, got "${v}"`);
  }
  return backend;
}

export function loadTableNames(e: Env, keys: readonly TableKey[] = tableKeys): TableNames {
  const out: Partial<TableNames> = {};
  for (const k of keys) out[k] = requiredVar(e, tables[k].envVar);
  return out as TableNames;
}

export function loadQueueUrl(e: Env, key: QueueKey): string {
  const name = queues[key].envVar;
  const v = requiredVar(e, name);
  if (!z.url().safeParse(v).success) throw new ConfigError(`${name} must be a queue URL, got "${v}"`);
  return v;
}

/** Tables the persister touches; its IAM policy names exactly these. */
export const persisterTables = [
  "conversations",
  "messages",
  "dedupe",
  "memberships",
] as const satisfies readonly TableKey[];

export interface PersisterConfig {
  readonly aws: AwsConfig;
  readonly tables: Pick<TableNames, (typeof persisterTables)[number]>;
  readonly notifyQueueUrl: string;
  /** The queue the persister consumes: failed records' visibility is shortened on it (retry backoff, poison). */
  readonly inboundQueueUrl: string;
  readonly editWindowMs: number;
}

export function loadPersisterConfig(e: Env): PersisterConfig {
  return {
    aws: loadAwsConfig(e),
    tables: loadTableNames(e, persisterTables),
    notifyQueueUrl: loadQueueUrl(e, "notify"),
    inboundQueueUrl: loadQueueUrl(e, "inbound"),
    editWindowMs: loadEditWindowMs(e),
  };
}

/** PARLEY_EDIT_WINDOW_SECONDS in ms: the gateway and the persister read it alike. */
export function loadEditWindowMs(e: Env): number {
  return intVar(e, env.editWindowSeconds, conversationSettings.editWindowSeconds) * 1000;
}

/** Env var names the persister Lambda receives (the component sets each). */
export const persisterEnvVars: readonly string[] = [
  ...persisterTables.map((k) => tables[k].envVar),
  queues.notify.envVar,
  queues.inbound.envVar,
  env.editWindowSeconds,
];
