/**
 * The gateway's security groups: internet → ALB on the listener ports, ALB → tasks on the public port, tasks ↔
 * tasks on the internal delivery port only (a self-referencing rule), tasks → AWS APIs over HTTPS. Declared as
 * children of the GatewayService.
 */
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { groupRule } from "./network";
import type { Tags } from "./types";

export interface GatewaySecurityGroupsArgs {
  readonly vpcId: pulumi.Input<string>;
  readonly port: number;
  readonly internalPort: number;
  /** What the ALB listens on: 80, and 443 with a certificate. */
  readonly listenerPorts: readonly number[];
  readonly tags?: Tags;
}

export interface GatewaySecurityGroups {
  readonly albSg: aws.ec2.SecurityGroup;
  readonly taskSg: aws.ec2.SecurityGroup;
}

export function gatewaySecurityGroups(
  name: string,
  a: GatewaySecurityGroupsArgs,
  parent: pulumi.Resource,
): GatewaySecurityGroups {
  const { vpcId, tags } = a;
  const albSg = new aws.ec2.SecurityGroup(
    `${name}-alb-sg`,
    { vpcId, description: "Parley ALB: HTTP(S) from the internet", tags },
    { parent },
  );
  const taskSg = new aws.ec2.SecurityGroup(
    `${name}-task-sg`,
    { vpcId, description: "Parley gateway tasks", tags },
    { parent },
  );
  for (const p of a.listenerPorts) {
    for (const [family, cidr] of [
      ["v4", { cidrIpv4: "0.0.0.0/0" }],
      ["v6", { cidrIpv6: "::/0" }],
    ] as const) {
      new aws.vpc.SecurityGroupIngressRule(
        `${name}-alb-in-${p}-${family}`,
        { securityGroupId: albSg.id, ipProtocol: "tcp", fromPort: p, toPort: p, ...cidr },
        { parent },
      );
    }
  }
  groupRule("out", `${name}-alb-out-tasks`, albSg.id, a.port, taskSg.id, parent);
  groupRule("in", `${name}-task-in-alb`, taskSg.id, a.port, albSg.id, parent);
  // Peer delivery: only members of this very group (other gateway tasks) reach the internal port.
  groupRule("in", `${name}-task-in-peers`, taskSg.id, a.internalPort, taskSg.id, parent);
  groupRule("out", `${name}-task-out-peers`, taskSg.id, a.internalPort, taskSg.id, parent);
  // AWS APIs (SQS, DynamoDB, ECR, Logs, Secrets Manager) over HTTPS; DNS and task metadata are not filtered.
  new aws.vpc.SecurityGroupEgressRule(
    `${name}-task-out-https`,
    { securityGroupId: taskSg.id, ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0" },
    { parent },
  );
  return { albSg, taskSg };
}
