/**
 * What a GatewayService takes: its args, their defaults (the stack config's, components/config-keys.ts) and
 * `validateGatewayServiceArgs`, which refuses a bad or conflicting combination before any resource is declared,
 * naming the field. The cross-checks are shared with the stack config parser, which names `parley:` keys instead.
 */
import * as path from "node:path";
import { gatewayTables, idleTimeoutOutlastsHeartbeat, LOG_LEVELS } from "../runtime/contracts";
import {
  argDefaults,
  configKeys,
  FARGATE_CPUS,
  FARGATE_MEMORY_MB,
  inRange,
  intArgErrors,
  isRetentionPeriod,
  LOG_RETENTION_DAYS,
  type IntArgKeys,
} from "./config-keys";
import type { GatewayTableKey, NetworkChoice, QueueRef, TableRef, Tags } from "./types";

export interface GatewayServiceArgs {
  readonly namePrefix: string;
  /** Where the gateway runs: a VPC this component creates, or an existing one. Plain: decides resources. */
  readonly network: NetworkChoice;
  /** A prebuilt image URI; when unset the repo Dockerfile is built and pushed to a new ECR repository. */
  readonly image?: string;
  /** Docker build context holding the Dockerfile (defaults to the repo root). */
  readonly dockerContext?: string;
  readonly cpu?: number;
  readonly memoryMb?: number;
  readonly desiredCount?: number;
  readonly minCount?: number;
  readonly maxCount?: number;
  readonly cpuTargetPercent?: number;
  /** ALB requests per task per minute the autoscaler aims for. */
  readonly requestsPerTarget?: number;
  readonly port?: number;
  readonly internalPort?: number;
  readonly heartbeatMs?: number;
  readonly albIdleTimeoutSeconds?: number;
  /** How long after sending a message may be edited; the persister must get the same value. */
  readonly editWindowSeconds?: number;
  readonly logLevel?: string;
  /** ACM certificate: HTTPS on 443 and HTTP 80 redirected to it. Plain: decides the listeners. */
  readonly certificateArn?: string;
  /** The origin browsers use; required with a certificate, else the ALB's own http URL. */
  readonly publicOrigin?: string;
  /** Existing secret/parameter ARNs; a Secrets Manager secret with a generated value is created for each unset one. */
  readonly jwtSecretArn?: string;
  readonly internalSecretArn?: string;
  readonly deletionProtection?: boolean;
  readonly logRetentionDays?: number;
  readonly inboundQueue: QueueRef;
  readonly notifyQueue: QueueRef;
  /** Exactly the contracts' gateway tables. */
  readonly tables: Readonly<Record<GatewayTableKey, TableRef>>;
  readonly tags?: Tags;
}

/** Each integer arg and the stack config key it mirrors (its default and range). */
export const gatewayArgKeys = {
  cpu: "gatewayCpu",
  memoryMb: "gatewayMemoryMb",
  desiredCount: "gatewayDesiredCount",
  minCount: "gatewayMinCount",
  maxCount: "gatewayMaxCount",
  cpuTargetPercent: "gatewayCpuTargetPercent",
  requestsPerTarget: "gatewayRequestsPerTarget",
  port: "gatewayPort",
  internalPort: "gatewayInternalPort",
  heartbeatMs: "heartbeatMs",
  albIdleTimeoutSeconds: "albIdleTimeoutSeconds",
  editWindowSeconds: "editWindowSeconds",
  logRetentionDays: "logRetentionDays",
} as const satisfies IntArgKeys<string>;

export type GatewayIntArg = keyof typeof gatewayArgKeys;

const repoRoot = path.resolve(__dirname, "..");

export const gatewayServiceDefaults = {
  ...argDefaults(gatewayArgKeys),
  dockerContext: repoRoot,
  logLevel: configKeys.logLevel.default as string,
  deletionProtection: configKeys.deletionProtection.default as boolean,
};

export type ResolvedGatewayServiceArgs = typeof gatewayServiceDefaults & GatewayServiceArgs;

/** The args with every unset default filled in (the caller's values win). */
export function withGatewayDefaults(args: GatewayServiceArgs): ResolvedGatewayServiceArgs {
  return { ...gatewayServiceDefaults, ...args };
}

type CrossChecked = Readonly<
  Record<
    "minCount" | "desiredCount" | "maxCount" | "port" | "internalPort" | "heartbeatMs" | "albIdleTimeoutSeconds",
    number
  >
>;

/** A rule between integer args; `label` names a field as the caller knows it (arg name or `parley:` key). */
export interface GatewayCrossCheck {
  holds(a: CrossChecked): boolean;
  message(label: (field: GatewayIntArg) => string, a: CrossChecked): string;
}

export const gatewayCrossChecks: readonly GatewayCrossCheck[] = [
  {
    holds: (a) => a.minCount <= a.desiredCount && a.desiredCount <= a.maxCount,
    message: (l, a) =>
      `${l("minCount")} <= ${l("desiredCount")} <= ${l("maxCount")} must hold, got ${a.minCount}, ${a.desiredCount}, ${a.maxCount}`,
  },
  {
    holds: (a) => a.port !== a.internalPort,
    message: (l, a) => `${l("port")} and ${l("internalPort")} must differ, both are ${a.port}`,
  },
  {
    holds: (a) => idleTimeoutOutlastsHeartbeat(a.albIdleTimeoutSeconds, a.heartbeatMs),
    message: (l, a) =>
      `${l("albIdleTimeoutSeconds")} (${a.albIdleTimeoutSeconds} s) must exceed twice ${l("heartbeatMs")} (${a.heartbeatMs} ms)`,
  },
];

/** Every problem with the args, each naming the field; empty when the service can be built. */
export function gatewayServiceArgsErrors(args: GatewayServiceArgs): string[] {
  const a = withGatewayDefaults(args);
  const errors = intArgErrors(gatewayArgKeys, a);
  if (errors.length) return errors;
  const memory = FARGATE_MEMORY_MB[a.cpu];
  if (!memory) errors.push(`cpu must be one of ${FARGATE_CPUS.join(", ")}, got ${a.cpu}`);
  else if (!inRange(a.memoryMb, { min: memory[0], max: memory[1] })) {
    errors.push(`memoryMb must be in [${memory[0]}, ${memory[1]}] for cpu ${a.cpu}, got ${a.memoryMb}`);
  }
  if (!isRetentionPeriod(a.logRetentionDays)) {
    errors.push(`logRetentionDays must be one of ${LOG_RETENTION_DAYS.join(", ")}, got ${a.logRetentionDays}`);
  }
  for (const check of gatewayCrossChecks) if (!check.holds(a)) errors.push(check.message((field) => field, a));
  if (!(LOG_LEVELS as readonly string[]).includes(a.logLevel)) {
    errors.push(`logLevel must be a pino level name, got "${a.logLevel}"`);
  }
  if (a.certificateArn && !a.publicOrigin?.startsWith("https://")) {
    errors.push("publicOrigin (https://...) is required with certificateArn");
  }
  for (const key of gatewayTables) if (!args.tables[key]) errors.push(`tables.${key} is required`);
  return errors;
}

/** Throws, naming the component and every field at fault, unless the args can build a GatewayService. */
export function validateGatewayServiceArgs(name: string, args: GatewayServiceArgs): void {
  const errors = gatewayServiceArgsErrors(args);
  if (errors.length) throw new Error(`GatewayService ${name}: ${errors.join("; ")}`);
}
