/**
 * Where the gateway runs (a new awsx VPC or an existing one's subnets), the VPC endpoints that keep the hot path
 * off NAT, and `groupRule`, the one shape of a security group rule between groups.
 */
import * as aws from "@pulumi/aws";
import * as awsx from "@pulumi/awsx";
import * as pulumi from "@pulumi/pulumi";
import type { NetworkChoice, Tags } from "./types";

/**
 * One TCP port into or out of a security group, from or to the members of `peerGroupId` (which may be the group
 * itself: then only its own members).
 */
export function groupRule(
  direction: "in" | "out",
  name: string,
  groupId: pulumi.Input<string>,
  port: number,
  peerGroupId: pulumi.Input<string>,
  parent: pulumi.Resource,
): void {
  const args = {
    securityGroupId: groupId,
    ipProtocol: "tcp",
    fromPort: port,
    toPort: port,
    referencedSecurityGroupId: peerGroupId,
  };
  if (direction === "in") new aws.vpc.SecurityGroupIngressRule(name, args, { parent });
  else new aws.vpc.SecurityGroupEgressRule(name, args, { parent });
}

export interface NetworkArgs {
  readonly choice: NetworkChoice;
  readonly tags?: Tags;
}

/**
 * The gateway's network: an awsx VPC (public subnets for the ALB, private subnets behind NAT for the tasks, or
 * public subnets only without NAT), or the subnets of an existing VPC.
 */
export class Network extends pulumi.ComponentResource {
  public readonly vpcId: pulumi.Output<string>;
  /** Where the ALB goes. */
  public readonly publicSubnetIds: pulumi.Output<string[]>;
  /** Where the tasks go: private subnets when there is NAT, else the public ones. */
  public readonly taskSubnetIds: pulumi.Output<string[]>;
  /** Tasks sit in private subnets behind NAT, so they need no public IP. Plain: decides the service's settings. */
  public readonly privateTasks: boolean;
  /** This component created the VPC (so it owns its route tables). */
  public readonly created: boolean;

  constructor(name: string, args: NetworkArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("parley:network:Network", name, {}, opts);
    const choice = args.choice;
    if ("existing" in choice) {
      const n = choice.existing;
      this.created = false;
      this.privateTasks = n.privateSubnetIds.length > 0;
      this.vpcId = pulumi.output(n.vpcId);
      this.publicSubnetIds = pulumi.output([...n.publicSubnetIds]);
      this.taskSubnetIds = pulumi.output([...(this.privateTasks ? n.privateSubnetIds : n.publicSubnetIds)]);
    } else {
      this.created = true;
      this.privateTasks = choice.natGateways !== "None";
      const vpc = new awsx.ec2.Vpc(
        `${name}-vpc`,
        {
          numberOfAvailabilityZones: choice.availabilityZones,
          natGateways: { strategy: choice.natGateways },
          // Without NAT a private subnet has no way to ECR or the AWS APIs, so only public subnets exist.
          ...(this.privateTasks ? {} : { subnetSpecs: [{ type: "Public" as const }] }),
          // Interface endpoints' private DNS needs both.
          enableDnsHostnames: true,
          enableDnsSupport: true,
          tags: args.tags,
        },
        { parent: this },
      );
      this.vpcId = vpc.vpcId;
      this.publicSubnetIds = vpc.publicSubnetIds;
      this.taskSubnetIds = this.privateTasks ? vpc.privateSubnetIds : vpc.publicSubnetIds;
    }
    this.registerOutputs({
      vpcId: this.vpcId,
      publicSubnetIds: this.publicSubnetIds,
      taskSubnetIds: this.taskSubnetIds,
    });
  }
}

export interface VpcEndpointsArgs {
  readonly vpcId: pulumi.Input<string>;
  /** The tasks' subnets: the DynamoDB endpoint routes from their route tables, the SQS endpoint lives in them. */
  readonly subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** The free DynamoDB gateway endpoint on the subnets' route tables. Plain: decides the resource. */
  readonly dynamodbGateway: boolean;
  /** Endpoint policy (JSON) of the DynamoDB endpoint. */
  readonly dynamodbPolicy: pulumi.Input<string>;
  /** An SQS interface endpoint with private DNS. Plain: decides the resources. */
  readonly sqsInterface: boolean;
  /** Endpoint policy (JSON) of the SQS endpoint. */
  readonly sqsPolicy: pulumi.Input<string>;
  /** The only group whose members may reach the interface endpoint (HTTPS). */
  readonly clientSecurityGroupId: pulumi.Input<string>;
  readonly tags?: Tags;
}

/**
 * VPC endpoints so the hot path (DynamoDB reads and writes, SQS sends and polls) skips the NAT gateways: no NAT
 * data charge, and no dependency on a NAT in another AZ. The DynamoDB gateway endpoint is free; the SQS interface
 * endpoint is billed per AZ-hour, so it is optional.
 */
export class VpcEndpoints extends pulumi.ComponentResource {
  constructor(name: string, args: VpcEndpointsArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("parley:network:VpcEndpoints", name, {}, opts);
    const region = aws.getRegionOutput({}, { parent: this }).region;
    const tags = args.tags;
    /** An endpoint of one AWS service in this region, its policy limiting it to this stack's resources. */
    const endpoint = (
      service: "dynamodb" | "sqs",
      policy: pulumi.Input<string>,
      specific: Omit<aws.ec2.VpcEndpointArgs, "vpcId" | "serviceName" | "policy" | "tags">,
    ) =>
      new aws.ec2.VpcEndpoint(
        `${name}-${service}`,
        {
          vpcId: args.vpcId,
          serviceName: pulumi.interpolate`com.amazonaws.${region}.${service}`,
          policy,
          tags,
          ...specific,
        },
        { parent: this },
      );

    if (args.dynamodbGateway) {
      // awsx does not expose which route table is whose; ask EC2 for the tables associated with these subnets.
      // The subnet ids resolve only once awsx has created the subnets and their route table associations.
      const routeTables = aws.ec2.getRouteTablesOutput(
        { vpcId: args.vpcId, filters: [{ name: "association.subnet-id", values: args.subnetIds }] },
        { parent: this },
      );
      endpoint("dynamodb", args.dynamodbPolicy, { vpcEndpointType: "Gateway", routeTableIds: routeTables.ids });
    }

    if (args.sqsInterface) {
      const sg = new aws.ec2.SecurityGroup(
        `${name}-sqs-sg`,
        { vpcId: args.vpcId, description: "Parley SQS endpoint: HTTPS from the gateway tasks only", tags },
        { parent: this },
      );
      groupRule("in", `${name}-sqs-in-tasks`, sg.id, 443, args.clientSecurityGroupId, this);
      endpoint("sqs", args.sqsPolicy, {
        vpcEndpointType: "Interface",
        subnetIds: args.subnetIds,
        securityGroupIds: [sg.id],
        // The SDK keeps using sqs.<region>.amazonaws.com (the queue URLs' host); private DNS points it here.
        privateDnsEnabled: true,
      });
    }

    this.registerOutputs({});
  }
}
