/**
 * The gateway's security groups: internet → ALB on the listener ports, ALB → tasks on the public port, tasks ↔
 * tasks on the internal delivery port only (a self-referencing rule), tasks → AWS APIs over HTTPS. Declared as
 * children of the GatewayService.
 */
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
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

/** One TCP port, into or out of `group`, from or to the members of `peer` (which may be `group` itself). */
function peerRule(
  direction: "in" | "out",
  name: string,
  group: aws.ec2.SecurityGroup,
  port: number,
  peer: aws.ec2.SecurityGroup,
  parent: pulumi.Resource,
): void {
  const args = {
    securityGroupId: group.id,
    ipProtocol: "tcp",
    fromPort: port,
    toPort: port,
    referencedSecurityGroupId: peer.id,
  };
  if (direction === "in") new aws.vpc.SecurityGroupIngressRule(name, args, { parent });
  else new aws.vpc.SecurityGroupEgressRule(name, args, { parent });
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
  peerRule("out", `${name}-alb-out-tasks`, albSg, a.port, taskSg, parent);
  peerRule("in", `${name}-task-in-alb`, taskSg, a.port, albSg, parent);
  // Peer delivery: only members of this very group (other gateway tasks) reach the internal port.
  peerRule("in", `${name}-task-in-peers`, taskSg, a.internalPort, taskSg, parent);
  peerRule("out", `${name}-task-out-peers`, taskSg, a.internalPort, taskSg, parent);
  // AWS APIs (SQS, DynamoDB, ECR, Logs, Secrets Manager) over HTTPS; DNS and task metadata are not filtered.
  new aws.vpc.SecurityGroupEgressRule(
    `${name}-task-out-https`,
    { securityGroupId: taskSg.id, ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0" },
    { parent },
  );
  return { albSg, taskSg };
}
