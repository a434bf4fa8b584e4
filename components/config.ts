/**
 * The `parley:*` stack configuration: one table of keys (name, type, default, description) that
 * Pulumi.yaml mirrors and a test keeps in step, and a pure parser that fails naming the key.
 */
import * as pulumi from "@pulumi/pulumi";
import { MAX_PERSISTER_BATCH, PERSISTER_TIMEOUT_SECONDS, queues } from "../runtime/contracts";

export class ParleyConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ParleyConfigError";
  }
}

export type ConfigKeyType = "string" | "integer" | "boolean";

export interface ConfigKeySpec {
  readonly type: ConfigKeyType;
  readonly description: string;
  /** Omitted when the key is optional with no value (e.g. an existing VPC id). */
  readonly default?: string | number | boolean;
}

/** CloudWatch Logs accepts only these retention periods. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** Fargate's valid task CPU units; memory must fit the matching range. */
const FARGATE_MEMORY_MB: Record<number, readonly [number, number]> = {
  256: [512, 2048],
  512: [1024, 4096],
  1024: [2048, 8192],
  2048: [4096, 16384],
  4096: [8192, 30720],
};

export const configKeys = {
  namePrefix: {
    type: "string",
    description: "Prefix of every physical name (tables, queues, roles). Defaults to <project>-<stack>.",
  },
  deletionProtection: {
    type: "boolean",
    default: true,
    description:
      "Deletion protection on the DynamoDB tables and the ALB; keeps ECR images on destroy. Off only for throwaway stacks.",
  },
  logRetentionDays: {
    type: "integer",
    default: 30,
    description: "Retention of the persister and gateway log groups (a CloudWatch Logs retention value).",
  },
  persisterMemoryMb: { type: "integer", default: 512, description: "Persister Lambda memory in MB (128-10240)." },
  persisterTimeoutSeconds: {
    type: "integer",
    default: PERSISTER_TIMEOUT_SECONDS,
    description: "Persister Lambda timeout; the inbound queue's visibility timeout must be at least 6x this.",
  },
  persisterBatchSize: {
    type: "integer",
    default: MAX_PERSISTER_BATCH,
    description: "Messages per persister invocation (1-10, Lambda's FIFO ceiling).",
  },
  persisterMaxConcurrency: {
    type: "integer",
    default: 2,
    description: "Maximum concurrent persister invocations the inbound queue drives (2-1000; Lambda's minimum is 2).",
  },
  gatewayImage: {
    type: "string",
    description:
      "Prebuilt gateway image URI. When unset the image is built from the repo Dockerfile and pushed to ECR.",
  },
  gatewayCpu: { type: "integer", default: 512, description: "Fargate task CPU units (256, 512, 1024, 2048, 4096)." },
  gatewayMemoryMb: { type: "integer", default: 1024, description: "Fargate task memory in MB, valid for the CPU." },
  gatewayDesiredCount: {
    type: "integer",
    default: 2,
    description: "Gateway tasks when the service is created; autoscaling owns the count afterwards.",
  },
  gatewayMinCount: { type: "integer", default: 2, description: "Autoscaling floor for gateway tasks." },
  gatewayMaxCount: { type: "integer", default: 10, description: "Autoscaling ceiling for gateway tasks." },
  gatewayCpuTargetPercent: {
    type: "integer",
    default: 60,
    description: "Target average CPU for gateway autoscaling (10-90).",
  },
  gatewayRequestsPerTarget: {
    type: "integer",
    default: 1000,
    description: "Target ALB requests per task per minute for gateway autoscaling.",
  },
  gatewayPort: { type: "integer", default: 8080, description: "Container port for HTTP, WebSocket and /healthz." },
  gatewayInternalPort: {
    type: "integer",
    default: 8081,
    description: "Container port for gateway-to-gateway delivery; reachable only from other gateway tasks.",
  },
  heartbeatMs: { type: "integer", default: 25000, description: "WebSocket ping interval in ms." },
  albIdleTimeoutSeconds: {
    type: "integer",
    default: 120,
    description: "ALB idle timeout; must exceed twice the heartbeat so idle sockets are never cut.",
  },
  logLevel: { type: "string", default: "info", description: "Gateway log level (pino level name)." },
  certificateArn: {
    type: "string",
    description: "ACM certificate ARN. When set the ALB listens on HTTPS 443 and redirects HTTP 80 to it.",
  },
  allowInsecureHttp: {
    type: "boolean",
    default: false,
    description:
      "Serve plain HTTP without a certificate. Only for throwaway stacks: without it parley:certificateArn is required.",
  },
  publicOrigin: {
    type: "string",
    description:
      "Origin users open (e.g. https://chat.example.com). Required with certificateArn; defaults to the ALB URL.",
  },
  vpcId: { type: "string", description: "Existing VPC to deploy into; needs publicSubnetIds too." },
  publicSubnetIds: { type: "string", description: "Comma-separated public subnet ids of vpcId (for the ALB)." },
  privateSubnetIds: {
    type: "string",
    description:
      "Comma-separated private subnet ids of vpcId with NAT egress (for the tasks). Unset: tasks get public IPs.",
  },
  natGateways: {
    type: "string",
    default: "OnePerAz",
    description:
      "NAT for a new VPC: OnePerAz (an AZ failure cuts off only that AZ's tasks; one NAT per AZ, ~$33/month each), Single (one NAT, cheaper, one AZ's failure cuts off every task) or None (tasks in public subnets with public IPs).",
  },
  sqsInterfaceEndpoint: {
    type: "boolean",
    default: false,
    description:
      "SQS interface VPC endpoint in the task subnets (private DNS, HTTPS from the tasks only), so queue traffic skips NAT. Costs ~$7.30/month per AZ plus $0.01/GB.",
  },
  availabilityZones: { type: "integer", default: 2, description: "Availability zones of a new VPC (2-3)." },
  jwtSecretArn: {
    type: "string",
    description:
      "Existing Secrets Manager secret or SSM SecureString parameter ARN for the JWT secret. Unset: generated.",
  },
  internalSecretArn: {
    type: "string",
    description:
      "Existing Secrets Manager secret or SSM SecureString parameter ARN for the internal secret. Unset: generated.",
  },
  alarmEmail: { type: "string", description: "Email subscribed to the alarm topic (confirm the subscription mail)." },
} as const satisfies Record<string, ConfigKeySpec>;

export type ConfigKey = keyof typeof configKeys;
export type NatStrategy = "Single" | "OnePerAz" | "None";

export interface ExistingNetwork {
  readonly vpcId: string;
  readonly publicSubnetIds: readonly string[];
  /** Empty: the existing VPC has no NAT-backed private subnets, so tasks need public IPs. */
  readonly privateSubnetIds: readonly string[];
}

/** Where the gateway runs: a VPC the program creates, or an existing one. */
export type NetworkChoice = (
  { readonly existing: ExistingNetwork } | { readonly natGateways: NatStrategy; readonly availabilityZones: number }
) & {
  /** An SQS interface endpoint in the task subnets (billed per AZ-hour); honoured for an existing VPC too. */
  readonly sqsInterfaceEndpoint: boolean;
};

export interface ParleyConfig {
  readonly namePrefix: string;
  readonly deletionProtection: boolean;
  readonly logRetentionDays: number;
  readonly persister: {
    readonly memoryMb: number;
    readonly timeoutSeconds: number;
    readonly batchSize: number;
    readonly maxConcurrency: number;
  };
  readonly gateway: {
    readonly image?: string;
    readonly cpu: number;
    readonly memoryMb: number;
    readonly desiredCount: number;
    readonly minCount: number;
    readonly maxCount: number;
    readonly cpuTargetPercent: number;
    readonly requestsPerTarget: number;
    readonly port: number;
    readonly internalPort: number;
    readonly heartbeatMs: number;
    readonly albIdleTimeoutSeconds: number;
    readonly logLevel: string;
    readonly certificateArn?: string;
    readonly publicOrigin?: string;
    readonly jwtSecretArn?: string;
    readonly internalSecretArn?: string;
  };
  readonly network: NetworkChoice;
  readonly alarmEmail?: string;
}

export type RawConfig = Partial<Record<ConfigKey, string | undefined>>;

const k = (key: ConfigKey) => `parley:${key}`;

function str(raw: RawConfig, key: ConfigKey): string | undefined {
  const v = raw[key]?.trim();
  return v ? v : undefined;
}

function int(raw: RawConfig, key: ConfigKey, min: number, max: number): number {
  const spec: ConfigKeySpec = configKeys[key];
  const v = str(raw, key);
  const n = v === undefined ? Number(spec.default) : Number(v);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ParleyConfigError(`${k(key)} must be an integer in [${min}, ${max}], got "${v ?? spec.default}"`);
  }
  return n;
}

function bool(raw: RawConfig, key: ConfigKey): boolean {
  const spec: ConfigKeySpec = configKeys[key];
  const v = str(raw, key);
  if (v === undefined) return Boolean(spec.default);
  if (v === "true") return true;
  if (v === "false") return false;
  throw new ParleyConfigError(`${k(key)} must be true or false, got "${v}"`);
}

function list(raw: RawConfig, key: ConfigKey, pattern: RegExp): string[] {
  const v = str(raw, key);
  if (v === undefined) return [];
  const items = v
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const item of items) {
    if (!pattern.test(item)) throw new ParleyConfigError(`${k(key)} has an invalid entry "${item}"`);
  }
  return items;
}

function matching(raw: RawConfig, key: ConfigKey, pattern: RegExp, what: string): string | undefined {
  const v = str(raw, key);
  if (v !== undefined && !pattern.test(v)) throw new ParleyConfigError(`${k(key)} must be ${what}, got "${v}"`);
  return v;
}

const SECRET_ARN = /^arn:aws[a-z-]*:(secretsmanager:[a-z0-9-]+:\d{12}:secret:.+|ssm:[a-z0-9-]+:\d{12}:parameter\/.+)$/;

/**
 * Parses and cross-checks the stack config. Every error names the `parley:` key (or keys) at fault,
 * so `pulumi up` fails before creating anything.
 */
export function parseConfig(raw: RawConfig, ctx: { project: string; stack: string }): ParleyConfig {
  const namePrefix = str(raw, "namePrefix") ?? `${ctx.project}-${ctx.stack}`.toLowerCase();
  // Longest derived names: `${prefix}-inbound-dlq.fifo` (SQS allows 80) and `${prefix}-gateway-exec-<region>`
  // (IAM allows 64; the region is in role names because IAM is account-global).
  if (!/^[a-z][a-z0-9-]{0,27}[a-z0-9]$/.test(namePrefix)) {
    throw new ParleyConfigError(
      `${k("namePrefix")} must be 2-29 characters of a-z, 0-9 and "-", starting with a letter, got "${namePrefix}"`,
    );
  }
  const logRetentionDays = int(raw, "logRetentionDays", 1, 3653);
  if (!(LOG_RETENTION_DAYS as readonly number[]).includes(logRetentionDays)) {
    throw new ParleyConfigError(`${k("logRetentionDays")} must be one of ${LOG_RETENTION_DAYS.join(", ")}`);
  }
  const maxTimeout = Math.floor(queues.inbound.visibilityTimeoutSeconds / 6);
  const persister = {
    memoryMb: int(raw, "persisterMemoryMb", 128, 10240),
    // AWS: an SQS source's visibility timeout should be at least 6x the function timeout.
    timeoutSeconds: int(raw, "persisterTimeoutSeconds", 1, maxTimeout),
    batchSize: int(raw, "persisterBatchSize", 1, MAX_PERSISTER_BATCH),
    maxConcurrency: int(raw, "persisterMaxConcurrency", 2, 1000),
  };

  const cpu = int(raw, "gatewayCpu", 256, 4096);
  const memRange = FARGATE_MEMORY_MB[cpu];
  if (!memRange) throw new ParleyConfigError(`${k("gatewayCpu")} must be one of 256, 512, 1024, 2048, 4096`);
  const memoryMb = int(raw, "gatewayMemoryMb", memRange[0], memRange[1]);
  const desiredCount = int(raw, "gatewayDesiredCount", 1, 100);
  const minCount = int(raw, "gatewayMinCount", 1, 100);
  const maxCount = int(raw, "gatewayMaxCount", 1, 100);
  if (!(minCount <= desiredCount && desiredCount <= maxCount)) {
    throw new ParleyConfigError(
      `${k("gatewayMinCount")} <= ${k("gatewayDesiredCount")} <= ${k("gatewayMaxCount")} must hold, got ${minCount}, ${desiredCount}, ${maxCount}`,
    );
  }
  const port = int(raw, "gatewayPort", 1024, 65535);
  const internalPort = int(raw, "gatewayInternalPort", 1024, 65535);
  if (port === internalPort) {
    throw new ParleyConfigError(`${k("gatewayPort")} and ${k("gatewayInternalPort")} must differ, both are ${port}`);
  }
  const heartbeatMs = int(raw, "heartbeatMs", 1000, 300000);
  const albIdleTimeoutSeconds = int(raw, "albIdleTimeoutSeconds", 1, 4000);
  // A socket is idle at most one heartbeat; twice gives a missed ping room before the ALB cuts it.
  if (albIdleTimeoutSeconds * 1000 <= 2 * heartbeatMs) {
    throw new ParleyConfigError(
      `${k("albIdleTimeoutSeconds")} (${albIdleTimeoutSeconds} s) must exceed twice ${k("heartbeatMs")} (${heartbeatMs} ms)`,
    );
  }
  const logLevel = str(raw, "logLevel") ?? String(configKeys.logLevel.default);
  if (!["fatal", "error", "warn", "info", "debug", "trace", "silent"].includes(logLevel)) {
    throw new ParleyConfigError(`${k("logLevel")} must be a pino level name, got "${logLevel}"`);
  }
  const certificateArn = matching(
    raw,
    "certificateArn",
    /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/.+$/,
    "an ACM certificate ARN",
  );
  const publicOrigin = matching(raw, "publicOrigin", /^https?:\/\/[^/\s]+$/, "an origin like https://chat.example.com");
  if (certificateArn && !publicOrigin) {
    // The certificate names a domain; the ALB's own DNS name would fail TLS and the origin check.
    throw new ParleyConfigError(`${k("publicOrigin")} is required when ${k("certificateArn")} is set`);
  }
  if (!certificateArn && !bool(raw, "allowInsecureHttp")) {
    // Tokens and messages would cross the internet in clear text; that has to be a deliberate choice.
    throw new ParleyConfigError(
      `${k("certificateArn")} is required (HTTPS); set ${k("allowInsecureHttp")} true to serve plain HTTP on a throwaway stack`,
    );
  }
  if (certificateArn && publicOrigin && !publicOrigin.startsWith("https://")) {
    throw new ParleyConfigError(`${k("publicOrigin")} must be https:// when ${k("certificateArn")} is set`);
  }

  const vpcId = matching(raw, "vpcId", /^vpc-[0-9a-f]+$/, "a VPC id (vpc-...)");
  const publicSubnetIds = list(raw, "publicSubnetIds", /^subnet-[0-9a-f]+$/);
  const privateSubnetIds = list(raw, "privateSubnetIds", /^subnet-[0-9a-f]+$/);
  const sqsInterfaceEndpoint = bool(raw, "sqsInterfaceEndpoint");
  let network: ParleyConfig["network"];
  if (vpcId) {
    if (publicSubnetIds.length < 2) {
      throw new ParleyConfigError(
        `${k("publicSubnetIds")} needs at least two subnets (an ALB spans two AZs) when ${k("vpcId")} is set`,
      );
    }
    if (privateSubnetIds.length === 1) {
      throw new ParleyConfigError(`${k("privateSubnetIds")} needs at least two subnets when set`);
    }
    network = { existing: { vpcId, publicSubnetIds, privateSubnetIds }, sqsInterfaceEndpoint };
  } else {
    if (publicSubnetIds.length || privateSubnetIds.length) {
      throw new ParleyConfigError(`${k("publicSubnetIds")} and ${k("privateSubnetIds")} need ${k("vpcId")}`);
    }
    const nat = str(raw, "natGateways") ?? String(configKeys.natGateways.default);
    if (nat !== "Single" && nat !== "OnePerAz" && nat !== "None") {
      throw new ParleyConfigError(`${k("natGateways")} must be Single, OnePerAz or None, got "${nat}"`);
    }
    network = { natGateways: nat, availabilityZones: int(raw, "availabilityZones", 2, 3), sqsInterfaceEndpoint };
  }

  return {
    namePrefix,
    deletionProtection: bool(raw, "deletionProtection"),
    logRetentionDays,
    persister,
    gateway: {
      image: str(raw, "gatewayImage"),
      cpu,
      memoryMb,
      desiredCount,
      minCount,
      maxCount,
      cpuTargetPercent: int(raw, "gatewayCpuTargetPercent", 10, 90),
      requestsPerTarget: int(raw, "gatewayRequestsPerTarget", 1, 1_000_000),
      port,
      internalPort,
      heartbeatMs,
      albIdleTimeoutSeconds,
      logLevel,
      certificateArn,
      publicOrigin,
      jwtSecretArn: matching(raw, "jwtSecretArn", SECRET_ARN, "a Secrets Manager secret or SSM parameter ARN"),
      internalSecretArn: matching(
        raw,
        "internalSecretArn",
        SECRET_ARN,
        "a Secrets Manager secret or SSM parameter ARN",
      ),
    },
    network,
    alarmEmail: matching(raw, "alarmEmail", /^[^@\s]+@[^@\s]+\.[^@\s]+$/, "an email address"),
  };
}

/** Reads every declared `parley:*` key from the stack and parses it. */
export function loadConfig(): ParleyConfig {
  const cfg = new pulumi.Config("parley");
  const raw: RawConfig = {};
  for (const key of Object.keys(configKeys) as ConfigKey[]) raw[key] = cfg.get(key);
  return parseConfig(raw, { project: pulumi.getProject(), stack: pulumi.getStack() });
}
