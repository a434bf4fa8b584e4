/**
 * The `parley:*` stack configuration: a pure parser of the keys components/config-keys.ts declares, which fails
 * naming the key (ranges from that table, cross-checks shared with the components' own validators), and
 * `loadConfig`, which reads them from the stack.
 */
import * as pulumi from "@pulumi/pulumi";
import { LOG_LEVELS, ORIGIN_PATTERN } from "../runtime/contracts";
import {
  configKeys,
  FARGATE_CPUS,
  FARGATE_MEMORY_MB,
  inRange,
  isRetentionPeriod,
  LOG_RETENTION_DAYS,
  type ConfigKey,
  type ConfigKeySpec,
  type IntegerConfigKey,
} from "./config-keys";
import { gatewayArgKeys, gatewayCrossChecks } from "./gateway-service-args";
import type { NetworkChoice } from "./types";

export class ParleyConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ParleyConfigError";
  }
}

export interface ParleyConfig {
  readonly namePrefix: string;
  readonly deletionProtection: boolean;
  readonly logRetentionDays: number;
  /** The edit window: one value for the gateway and the persister, which both check an edit against it. */
  readonly editWindowSeconds: number;
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

/** An integer key, refused outside its range in the key table (or `range`, where another key narrows it). */
function int(raw: RawConfig, key: IntegerConfigKey, range: { min: number; max: number } = configKeys[key]): number {
  const fallback = configKeys[key].default;
  const v = str(raw, key);
  const n = v === undefined ? fallback : Number(v);
  if (!inRange(n, range)) {
    throw new ParleyConfigError(`${k(key)} must be an integer in [${range.min}, ${range.max}], got "${v ?? fallback}"`);
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
  const logRetentionDays = int(raw, "logRetentionDays");
  if (!isRetentionPeriod(logRetentionDays)) {
    throw new ParleyConfigError(`${k("logRetentionDays")} must be one of ${LOG_RETENTION_DAYS.join(", ")}`);
  }
  const persister = {
    memoryMb: int(raw, "persisterMemoryMb"),
    // Its range follows the inbound queue's visibility timeout (runtime/contracts/settings.ts).
    timeoutSeconds: int(raw, "persisterTimeoutSeconds"),
    batchSize: int(raw, "persisterBatchSize"),
    maxConcurrency: int(raw, "persisterMaxConcurrency"),
  };

  const cpu = int(raw, "gatewayCpu");
  const memRange = FARGATE_MEMORY_MB[cpu];
  if (!memRange) throw new ParleyConfigError(`${k("gatewayCpu")} must be one of ${FARGATE_CPUS.join(", ")}`);
  const sizes = {
    cpu,
    memoryMb: int(raw, "gatewayMemoryMb", { min: memRange[0], max: memRange[1] }),
    desiredCount: int(raw, "gatewayDesiredCount"),
    minCount: int(raw, "gatewayMinCount"),
    maxCount: int(raw, "gatewayMaxCount"),
    cpuTargetPercent: int(raw, "gatewayCpuTargetPercent"),
    requestsPerTarget: int(raw, "gatewayRequestsPerTarget"),
    port: int(raw, "gatewayPort"),
    internalPort: int(raw, "gatewayInternalPort"),
    heartbeatMs: int(raw, "heartbeatMs"),
    albIdleTimeoutSeconds: int(raw, "albIdleTimeoutSeconds"),
  };
  for (const check of gatewayCrossChecks) {
    if (!check.holds(sizes)) throw new ParleyConfigError(check.message((field) => k(gatewayArgKeys[field]), sizes));
  }
  const logLevel = str(raw, "logLevel") ?? configKeys.logLevel.default;
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ParleyConfigError(`${k("logLevel")} must be a pino level name, got "${logLevel}"`);
  }
  const certificateArn = matching(
    raw,
    "certificateArn",
    /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/.+$/,
    "an ACM certificate ARN",
  );
  const publicOrigin = matching(raw, "publicOrigin", ORIGIN_PATTERN, "an origin like https://chat.example.com");
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
    const nat = str(raw, "natGateways") ?? configKeys.natGateways.default;
    if (nat !== "Single" && nat !== "OnePerAz" && nat !== "None") {
      throw new ParleyConfigError(`${k("natGateways")} must be Single, OnePerAz or None, got "${nat}"`);
    }
    network = { natGateways: nat, availabilityZones: int(raw, "availabilityZones"), sqsInterfaceEndpoint };
  }

  return {
    namePrefix,
    deletionProtection: bool(raw, "deletionProtection"),
    logRetentionDays,
    editWindowSeconds: int(raw, "editWindowSeconds"),
    persister,
    gateway: {
      image: str(raw, "gatewayImage"),
      ...sizes,
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
