/**
 * Pure derivations for the gateway's ECS service and its autoscaling: the ids and labels Application Auto
 * Scaling wants, and the transform that leaves the autoscaled desired count alone.
 */
import type * as pulumi from "@pulumi/pulumi";

/** Application Auto Scaling's id for an ECS service. */
export function ecsServiceResourceId(clusterName: string, serviceName: string): string {
  return `service/${clusterName}/${serviceName}`;
}

/** ALBRequestCountPerTarget's resource label: `<lb arn suffix>/<target group arn suffix>`. */
export function albRequestCountLabel(loadBalancerArnSuffix: string, targetGroupArnSuffix: string): string {
  return `${loadBalancerArnSuffix}/${targetGroupArnSuffix}`;
}

/**
 * A `transforms` entry for the awsx FargateService: once autoscaling owns the service's desired count,
 * `pulumi up` must not reset it (that would scale a loaded fleet back). The service itself is a child of the
 * remote component, which component options never reach; transforms do.
 */
export function ignoreAutoscaledDesiredCount(
  args: pulumi.ResourceTransformArgs,
): pulumi.ResourceTransformResult | undefined {
  if (args.type !== "aws:ecs/service:Service") return undefined;
  return {
    props: args.props,
    opts: { ...args.opts, ignoreChanges: [...(args.opts.ignoreChanges ?? []), "desiredCount"] },
  };
}
