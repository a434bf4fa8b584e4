/**
 * The gateway's awsx ApplicationLoadBalancer: idle timeout above the heartbeat, invalid headers dropped, HTTPS
 * with HTTP redirected to it when there is a certificate, and the health check and deregistration delay from
 * runtime/contracts/drain.ts, so a gateway drains its sockets before the ALB would cut them.
 */
import * as awsx from "@pulumi/awsx";
import * as pulumi from "@pulumi/pulumi";
import { deregistrationDelaySeconds, LB_HEALTH_PATH, lbHealthCheck } from "../runtime/contracts";
import type { Tags } from "./types";

export interface GatewayLoadBalancerArgs {
  readonly subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  readonly securityGroupId: pulumi.Input<string>;
  /** The tasks' public port: the target group forwards to it. */
  readonly port: number;
  readonly idleTimeoutSeconds: number;
  readonly deletionProtection: boolean;
  /** Plain: decides the listeners. */
  readonly certificateArn?: string;
  readonly tags?: Tags;
}

export interface GatewayLoadBalancer {
  readonly dnsName: pulumi.Output<string>;
  readonly targetGroupArn: pulumi.Output<string>;
  /** For CloudWatch dimensions (`LoadBalancer`, `TargetGroup`) and the request-count scaling label. */
  readonly loadBalancerArnSuffix: pulumi.Output<string>;
  readonly targetGroupArnSuffix: pulumi.Output<string>;
}

/** The ports the load balancer listens on: 80 always (a redirect with a certificate), 443 with one. */
export function listenerPortsFor(certificateArn: string | undefined): number[] {
  return certificateArn ? [80, 443] : [80];
}

export function gatewayLoadBalancer(
  name: string,
  a: GatewayLoadBalancerArgs,
  parent: pulumi.Resource,
): GatewayLoadBalancer {
  // Its own path: the gateway counts these checks, and their silence tells it it was deregistered.
  const healthCheck = {
    path: LB_HEALTH_PATH,
    protocol: "HTTP",
    matcher: "200",
    interval: lbHealthCheck.intervalSeconds,
    timeout: lbHealthCheck.timeoutSeconds,
    healthyThreshold: lbHealthCheck.healthyThreshold,
    unhealthyThreshold: lbHealthCheck.unhealthyThreshold,
  };
  const alb = new awsx.lb.ApplicationLoadBalancer(
    `${name}-alb`,
    {
      subnetIds: a.subnetIds,
      securityGroups: [a.securityGroupId],
      // WebSockets sit idle between heartbeats; the ALB must not cut them first.
      idleTimeout: a.idleTimeoutSeconds,
      dropInvalidHeaderFields: true,
      desyncMitigationMode: "defensive",
      enableDeletionProtection: a.deletionProtection,
      defaultTargetGroup: {
        port: a.port,
        protocol: "HTTP",
        targetType: "ip",
        // Long enough for the gateway to notice the missing health checks and close every socket with 1001
        // before the ALB would cut them; ECS sends SIGTERM only after this (or once no connection is left).
        deregistrationDelay: deregistrationDelaySeconds(),
        healthCheck,
      },
      listeners: a.certificateArn
        ? [
            {
              port: 80,
              protocol: "HTTP",
              defaultActions: [
                { type: "redirect", redirect: { port: "443", protocol: "HTTPS", statusCode: "HTTP_301" } },
              ],
            },
            {
              port: 443,
              protocol: "HTTPS",
              certificateArn: a.certificateArn,
              sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06",
            },
          ]
        : [{ port: 80, protocol: "HTTP" }],
      tags: a.tags,
    },
    { parent },
  );
  return {
    dnsName: alb.loadBalancer.apply((lb) => lb.dnsName),
    targetGroupArn: alb.defaultTargetGroup.apply((tg) => tg.arn),
    loadBalancerArnSuffix: alb.loadBalancer.apply((lb) => lb.arnSuffix),
    targetGroupArnSuffix: alb.defaultTargetGroup.apply((tg) => tg.arnSuffix),
  };
}
