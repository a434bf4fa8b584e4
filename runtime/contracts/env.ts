/**
 * Every environment variable a Parley process reads, parsed into typed config with clear errors.
 * The Pulumi components set exactly these names; the local stack does the same.
 */
import { z } from "zod";
import { queues, type QueueKey } from "./queues";
import { tables, tableKeys, type TableKey, type TableNames } from "./tables";
import { describeZodError } from "./validation";

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
  // local persister runner (Lambda's event source mapping has these as settings)
  runnerConcurrency: "PARLEY_RUNNER_CONCURRENCY",
  runnerBatchSize: "PARLEY_RUNNER_BATCH_SIZE",
} as const;

export type Env = Record<string, string | undefined>;

function required(e: Env, name: string): string {
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

export function intVar(e: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = e[name]?.trim();
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name} must be an integer in [${min}, ${max}], got "${raw}"`);
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
    region: e[env.region]?.trim() || "us-east-1",
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
  for (const k of keys) out[k] = required(e, tables[k].envVar);
  return out as TableNames;
}

export function loadQueueUrl(e: Env, key: QueueKey): string {
  const name = queues[key].envVar;
  const v = required(e, name);
  if (!z.url().safeParse(v).success) throw new ConfigError(`${name} must be a queue URL, got "${v}"`);
  return v;
}

/** Tables the persister touches; its IAM policy names exactly these. */
export const persisterTables = ["conversations", "messages", "dedupe"] as const satisfies readonly TableKey[];

export interface PersisterConfig {
  readonly aws: AwsConfig;
  readonly tables: Pick<TableNames, (typeof persisterTables)[number]>;
  readonly notifyQueueUrl: string;
  /** The queue the persister consumes: failed records' visibility is shortened on it (retry backoff, poison). */
  readonly inboundQueueUrl: string;
}

export function loadPersisterConfig(e: Env): PersisterConfig {
  return {
    aws: loadAwsConfig(e),
    tables: loadTableNames(e, persisterTables),
    notifyQueueUrl: loadQueueUrl(e, "notify"),
    inboundQueueUrl: loadQueueUrl(e, "inbound"),
  };
}

/** Env var names the persister Lambda receives (the component sets each). */
export const persisterEnvVars: readonly string[] = [
  ...persisterTables.map((k) => tables[k].envVar),
  queues.notify.envVar,
  queues.inbound.envVar,
];

/** Tables the gateway touches (everything but dedupe, which only the persister needs; auth is the gateway's alone). */
export const gatewayTables = [
  "users",
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
}

/**
 * What a gateway accepts besides a secret's current value while a rotation rolls through the fleet
 * (docs/operations.md, "Rotating secrets").
 */
export interface SecretRotation {
  /** The value before the rotation: accepted, and presented to a peer that refuses the current one, until `until`. */
  readonly previous?: { readonly value: string; readonly until: number };
  /** The value the next rotation will make current: accepted, never used to sign or presented. */
  readonly next?: string;
}

export interface RotatingSecret {
  readonly current: string;
  readonly rotation?: SecretRotation;
}

const rotatingSecretSchema = z.strictObject({
  current: z.string(),
  previous: z.string().optional(),
  /** Epoch milliseconds. */
  previousUntil: z.number().int().positive().optional(),
  next: z.string().optional(),
});

/**
 * A secret's value is either the secret itself, or — during a rotation — JSON
 * `{"current": "...", "previous": "...", "previousUntil": <epoch ms>, "next": "..."}` (only `current` required).
 * Messages name the variable and the field, never the value.
 */
export function parseRotatingSecret(name: string, raw: string): RotatingSecret {
  const long = (v: string, field: string): string => {
    if (v.length < 32) throw new ConfigError(`${field} must be at least 32 characters`);
    return v;
  };
  if (!raw.startsWith("{")) return { current: long(raw, name) };
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    // The parser's message quotes the input: say only where it is.
    throw new ConfigError(`${name} starts with "{" but is not valid JSON`);
  }
  const parsed = rotatingSecretSchema.safeParse(json);
  if (!parsed.success) {
    throw new ConfigError(`${name}: ${describeZodError(parsed.error, { root: "value" })}`);
  }
  const { current, previous, previousUntil, next } = parsed.data;
  if ((previous === undefined) !== (previousUntil === undefined)) {
    throw new ConfigError(`${name}: previous and previousUntil go together (the grace window ends at previousUntil)`);
  }
  const rotation: SecretRotation = {
    ...(previous !== undefined
      ? { previous: { value: long(previous, `${name}.previous`), until: previousUntil! } }
      : {}),
    ...(next !== undefined ? { next: long(next, `${name}.next`) } : {}),
  };
  return {
    current: long(current, `${name}.current`),
    ...(rotation.previous || rotation.next ? { rotation } : {}),
  };
}

export function loadGatewayConfig(e: Env): GatewayConfig {
  const origins = required(e, env.allowedOrigins)
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const o of origins) {
    if (!/^https?:\/\/[^/\s]+$/.test(o)) {
      throw new ConfigError(`${env.allowedOrigins} entries must be origins like https://chat.example.com, got "${o}"`);
    }
  }
  const heartbeatMs = intVar(e, env.heartbeatMs, 25_000, 1_000, 300_000);
  const jwt = parseRotatingSecret(env.jwtSecret, required(e, env.jwtSecret));
  const internal = parseRotatingSecret(env.internalSecret, required(e, env.internalSecret));
  return {
    aws: loadAwsConfig(e),
    tables: loadTableNames(e, gatewayTables),
    inboundQueueUrl: loadQueueUrl(e, "inbound"),
    notifyQueueUrl: loadQueueUrl(e, "notify"),
    port: intVar(e, env.port, 8080, 0, 65535),
    internalPort: intVar(e, env.internalPort, 8081, 0, 65535),
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
    tokenTtlSeconds: intVar(e, env.tokenTtlSeconds, 12 * 3600, 60, 30 * 24 * 3600),
    allowedOrigins: origins,
    webDir: e[env.webDir]?.trim() || undefined,
    logLevel: e[env.logLevel]?.trim() || "info",
    albIdleTimeoutSeconds: intVar(e, env.albIdleTimeoutSeconds, 60, 1, 4000),
    limits: {
      maxPayloadBytes: intVar(e, env.maxPayloadBytes, 64 * 1024, 1024, 1024 * 1024),
      rateLimitPerSecond: intVar(e, env.rateLimitPerSecond, 20, 1, 10_000),
      rateLimitBurst: intVar(e, env.rateLimitBurst, 40, 1, 100_000),
      maxConnectionsPerUser: intVar(e, env.maxConnectionsPerUser, 10, 1, 1000),
      heartbeatMs,
      presenceTtlSeconds: intVar(e, env.presenceTtlSeconds, 90, Math.ceil((3 * heartbeatMs) / 1000), 3600),
    },
  };
}

/** Plain (non-secret) env var names of the gateway container; secrets come from Secrets Manager. */
export const gatewaySecretEnvVars = [env.jwtSecret, env.internalSecret] as const;
