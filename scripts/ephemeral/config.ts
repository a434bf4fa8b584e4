/**
 * The stack config an ephemeral stack runs with: small, cheap, quick to create and to delete. Keys
 * are typed against the program's own table (components/config-keys.ts), so a renamed key fails tsc here.
 */
import type { ConfigKey } from "../../components/config-keys";
import { namePrefixFor } from "./names";

export interface StackConfigValue {
  readonly value: string;
  readonly secret?: boolean;
}
export type StackConfig = Record<string, StackConfigValue>;

export interface EphemeralConfigInput {
  readonly stackName: string;
  readonly region: string;
  /** A prebuilt gateway image; without it the program builds the Dockerfile (slower, needs Docker). */
  readonly image?: string;
}

/** `parley:` settings that differ from the program's defaults; everything else stays default. */
const ephemeralSettings = {
  // Throwaway tables must be deletable by `destroy`.
  deletionProtection: "false",
  logRetentionDays: "1",
  persisterMemoryMb: "256",
  gatewayCpu: "256",
  gatewayMemoryMb: "512",
  // Two tasks, not one: the smoke test should cross gateways the way production traffic does.
  gatewayDesiredCount: "2",
  gatewayMinCount: "2",
  gatewayMaxCount: "2",
  // A NAT gateway costs money by the hour and minutes to create; tasks get public IPs instead.
  natGateways: "None",
  availabilityZones: "2",
  // Minutes-old stacks on an ALB hostname have no domain to hold an ACM certificate; nothing real flows through.
  allowInsecureHttp: "true",
} as const satisfies Partial<Record<ConfigKey, string>>;

export function ephemeralConfig(input: EphemeralConfigInput): StackConfig {
  const parley: Partial<Record<ConfigKey, string>> = {
    ...ephemeralSettings,
    namePrefix: namePrefixFor(input.stackName),
  };
  if (input.image) parley.gatewayImage = input.image;
  const config: StackConfig = { "aws:region": { value: input.region } };
  for (const [key, value] of Object.entries(parley)) config[`parley:${key}`] = { value };
  return config;
}
