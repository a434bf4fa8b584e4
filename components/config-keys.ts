/**
 * The `parley:*` stack config keys: one table of name, type, description and, for integers, default and range,
 * that Pulumi.yaml and docs/deploy.md mirror (a test keeps them in step). Keys a process reads again at runtime
 * take their numbers from runtime/contracts/settings.ts; the components' arg defaults and checks come from here
 * (`argDefaults`, `intArgErrors`), so each number is written once.
 */
import {
  conversationSettings,
  DEFAULT_LOG_LEVEL,
  gatewaySettings,
  persisterSettings,
  type IntSetting,
} from "../runtime/contracts";

export type ConfigKeyType = "string" | "integer" | "boolean";

export interface ConfigKeySpec {
  readonly type: ConfigKeyType;
  readonly description: string;
  /** Omitted when the key is optional with no value (e.g. an existing VPC id). */
  readonly default?: string | number | boolean;
  /** Integer keys: the closed range a value must fall in. */
  readonly min?: number;
  readonly max?: number;
}

/** CloudWatch Logs accepts only these retention periods. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

export function isRetentionPeriod(days: number): boolean {
  return (LOG_RETENTION_DAYS as readonly number[]).includes(days);
}

/** Fargate's valid task CPU units, each with the memory range (MB) that fits it. */
export const FARGATE_MEMORY_MB: Readonly<Record<number, readonly [number, number]>> = {
  256: [512, 2048],
  512: [1024, 4096],
  1024: [2048, 8192],
  2048: [4096, 16384],
  4096: [8192, 30720],
};
export const FARGATE_CPUS = Object.keys(FARGATE_MEMORY_MB).map(Number);
const fargateMemories = Object.values(FARGATE_MEMORY_MB).flat();

/** The container runs as uid 1000, which cannot bind a port below 1024. */
const UNPRIVILEGED_PORT_MIN = 1024;
const TASK_COUNT = { min: 1, max: 100 } as const;

/** An integer key; `describe` may quote the range, so the numbers stay written once. */
function integer<S extends IntSetting>(setting: S, describe: string | ((s: S) => string)) {
  const description = typeof describe === "string" ? describe : describe(setting);
  return { type: "integer", ...setting, description } as const;
}

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
  logRetentionDays: integer(
    { default: 30, min: LOG_RETENTION_DAYS[0], max: LOG_RETENTION_DAYS[LOG_RETENTION_DAYS.length - 1]! },
    "Retention of the persister and gateway log groups (a CloudWatch Logs retention value).",
  ),
  persisterMemoryMb: integer(
    { default: 512, min: 128, max: 10240 },
    (s) => `Persister Lambda memory in MB (${s.min}-${s.max}).`,
  ),
  persisterTimeoutSeconds: integer(
    persisterSettings.timeoutSeconds,
    "Persister Lambda timeout; the inbound queue's visibility timeout must be at least 6x this.",
  ),
  persisterBatchSize: integer(
    persisterSettings.batchSize,
    (s) => `Messages per persister invocation (${s.min}-${s.max}, Lambda's FIFO ceiling).`,
  ),
  persisterMaxConcurrency: integer(
    { default: 2, min: 2, max: 1000 },
    (s) =>
      `Maximum concurrent persister invocations the inbound queue drives (${s.min}-${s.max}; Lambda's minimum is ${s.min}).`,
  ),
  gatewayImage: {
    type: "string",
    description:
      "Prebuilt gateway image URI. When unset the image is built from the repo Dockerfile and pushed to ECR.",
  },
  gatewayCpu: integer(
    { default: 512, min: Math.min(...FARGATE_CPUS), max: Math.max(...FARGATE_CPUS) },
    `Fargate task CPU units (${FARGATE_CPUS.join(", ")}).`,
  ),
  gatewayMemoryMb: integer(
    { default: 1024, min: Math.min(...fargateMemories), max: Math.max(...fargateMemories) },
    "Fargate task memory in MB, valid for the CPU.",
  ),
  gatewayDesiredCount: integer(
    { default: 2, ...TASK_COUNT },
    "Gateway tasks when the service is created; autoscaling owns the count afterwards.",
  ),
  gatewayMinCount: integer({ default: 2, ...TASK_COUNT }, "Autoscaling floor for gateway tasks."),
  gatewayMaxCount: integer({ default: 10, ...TASK_COUNT }, "Autoscaling ceiling for gateway tasks."),
  gatewayCpuTargetPercent: integer(
    { default: 60, min: 10, max: 90 },
    (s) => `Target average CPU for gateway autoscaling (${s.min}-${s.max}).`,
  ),
  gatewayRequestsPerTarget: integer(
    { default: 1000, min: 1, max: 1_000_000 },
    "Target ALB requests per task per minute for gateway autoscaling.",
  ),
  gatewayPort: integer(
    { ...gatewaySettings.port, min: UNPRIVILEGED_PORT_MIN },
    "Container port for HTTP, WebSocket and /healthz.",
  ),
  gatewayInternalPort: integer(
    { ...gatewaySettings.internalPort, min: UNPRIVILEGED_PORT_MIN },
    "Container port for gateway-to-gateway delivery; reachable only from other gateway tasks.",
  ),
  heartbeatMs: integer(gatewaySettings.heartbeatMs, "WebSocket ping interval in ms."),
  // Deployed behind an ALB whose idle timeout this sets: above twice the default heartbeat, unlike AWS's default.
  albIdleTimeoutSeconds: integer(
    { ...gatewaySettings.albIdleTimeoutSeconds, default: 120 },
    "ALB idle timeout; must exceed twice the heartbeat so idle sockets are never cut.",
  ),
  // The gateway checks an edit when it arrives and the persister again in the log's order: one value for both,
  // or the gateway accepts an edit the persister then refuses.
  editWindowSeconds: integer(
    conversationSettings.editWindowSeconds,
    (s) =>
      `Seconds after sending during which the sender may edit a message (${s.min}-${s.max}); the gateway and the persister both get it.`,
  ),
  logLevel: { type: "string", default: DEFAULT_LOG_LEVEL, description: "Gateway log level (pino level name)." },
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
  availabilityZones: integer(
    { default: 2, min: 2, max: 3 },
    (s) => `Availability zones of a new VPC (${s.min}-${s.max}).`,
  ),
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
export type IntegerConfigKey = {
  [K in ConfigKey]: (typeof configKeys)[K] extends { readonly type: "integer" } ? K : never;
}[ConfigKey];

/** Whether `n` is an integer in the closed range. */
export function inRange(n: number, range: { readonly min: number; readonly max: number }): boolean {
  return Number.isInteger(n) && n >= range.min && n <= range.max;
}

/** Component arg name → the integer config key whose default and range it takes. */
export type IntArgKeys<F extends string> = Readonly<Record<F, IntegerConfigKey>>;

/** A component's integer arg defaults, read off the config keys its args mirror. */
export function argDefaults<F extends string>(keys: IntArgKeys<F>): Record<F, number> {
  const out = {} as Record<F, number>;
  for (const field of Object.keys(keys) as F[]) out[field] = configKeys[keys[field]].default;
  return out;
}

/** One message per integer arg outside its config key's range, naming the arg. */
export function intArgErrors<F extends string>(
  keys: IntArgKeys<F>,
  args: Readonly<Record<NoInfer<F>, number>>,
): string[] {
  return (Object.keys(keys) as F[])
    .filter((field) => !inRange(args[field], configKeys[keys[field]]))
    .map((field) => {
      const { min, max } = configKeys[keys[field]];
      return `${field} must be an integer in [${min}, ${max}], got ${args[field]}`;
    });
}
