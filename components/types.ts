/**
 * The shapes the components share: how one refers to a queue or a table another component created, the tags
 * every resource takes, and where the gateway runs. Declared once here; each component imports what it takes.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { gatewayTables, persisterTables } from "../runtime/contracts";

/** Tags every component passes to each resource it declares. */
export type Tags = pulumi.Input<Record<string, pulumi.Input<string>>>;

/** SNS topic ARNs an alarm notifies. */
export type AlarmActions = pulumi.Input<pulumi.Input<string>[]>;

/** A queue another component created: its ARN for policies, its URL for the env. */
export interface QueueRef {
  readonly arn: pulumi.Input<string>;
  readonly url: pulumi.Input<string>;
}

/** A table another component created: its name for the env, its ARN for policies. */
export interface TableRef {
  readonly name: pulumi.Input<string>;
  readonly arn: pulumi.Input<string>;
}

export type GatewayTableKey = (typeof gatewayTables)[number];
export type PersisterTableKey = (typeof persisterTables)[number];

export type NatStrategy = "Single" | "OnePerAz" | "None";

export interface ExistingNetwork {
  readonly vpcId: string;
  readonly publicSubnetIds: readonly string[];
  /** Empty: the existing VPC has no NAT-backed private subnets, so tasks need public IPs. */
  readonly privateSubnetIds: readonly string[];
}

/** Where the gateway runs: a VPC the program creates, or an existing one. Plain: decides resources. */
export type NetworkChoice = (
  { readonly existing: ExistingNetwork } | { readonly natGateways: NatStrategy; readonly availabilityZones: number }
) & {
  /** An SQS interface endpoint in the task subnets (billed per AZ-hour); honoured for an existing VPC too. */
  readonly sqsInterfaceEndpoint: boolean;
};
