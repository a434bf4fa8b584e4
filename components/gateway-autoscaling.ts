/**
 * Autoscaling of the gateway service between its min and max task counts, tracking two targets: average CPU
 * and ALB requests per task. Scales in slowly, since each removed task drops its sockets and those clients
 * reconnect. Declared as children of the GatewayService.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { albRequestCountLabel, ecsServiceResourceId } from "./ecs-names";

export interface GatewayAutoscalingArgs {
  readonly clusterName: pulumi.Input<string>;
  readonly serviceName: string;
  /** The scaling target registers once the service exists. */
  readonly service: pulumi.Resource;
  readonly minCount: number;
  readonly maxCount: number;
  readonly cpuTargetPercent: number;
  readonly requestsPerTarget: number;
  readonly loadBalancerArnSuffix: pulumi.Input<string>;
  readonly targetGroupArnSuffix: pulumi.Input<string>;
}

export function gatewayAutoscaling(name: string, a: GatewayAutoscalingArgs, parent: pulumi.Resource): void {
  const scaling = new aws.appautoscaling.Target(
    `${name}-scaling`,
    {
      serviceNamespace: "ecs",
      scalableDimension: "ecs:service:DesiredCount",
      resourceId: pulumi.interpolate`${a.clusterName}`.apply((c) => ecsServiceResourceId(c, a.serviceName)),
      minCapacity: a.minCount,
      maxCapacity: a.maxCount,
    },
    { parent, dependsOn: [a.service] },
  );
  const targets = [
    {
      suffix: "scale-cpu",
      targetValue: a.cpuTargetPercent,
      predefinedMetricSpecification: { predefinedMetricType: "ECSServiceAverageCPUUtilization" },
    },
    {
      suffix: "scale-requests",
      targetValue: a.requestsPerTarget,
      predefinedMetricSpecification: {
        predefinedMetricType: "ALBRequestCountPerTarget",
        resourceLabel: pulumi
          .all([a.loadBalancerArnSuffix, a.targetGroupArnSuffix])
          .apply(([lb, tg]) => albRequestCountLabel(lb, tg)),
      },
    },
  ];
  for (const { suffix, targetValue, predefinedMetricSpecification } of targets) {
    new aws.appautoscaling.Policy(
      `${name}-${suffix}`,
      {
        policyType: "TargetTrackingScaling",
        serviceNamespace: scaling.serviceNamespace,
        scalableDimension: scaling.scalableDimension,
        resourceId: scaling.resourceId,
        targetTrackingScalingPolicyConfiguration: {
          targetValue,
          predefinedMetricSpecification,
          scaleInCooldown: 300,
          scaleOutCooldown: 60,
        },
      },
      { parent },
    );
  }
}
