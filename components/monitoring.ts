import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { LB_HEALTH_PATH } from "../runtime/contracts";
import { metricAlarm, type MetricAlarmSpec } from "./alerts";
import type { AlarmActions, Tags } from "./types";

export interface MonitoredQueue {
  readonly label: string;
  readonly queueName: pulumi.Input<string>;
  readonly dlqName: pulumi.Input<string>;
}

export interface MonitoringArgs {
  readonly namePrefix: string;
  readonly queues: readonly MonitoredQueue[];
  readonly persisterFunctionName: pulumi.Input<string>;
  readonly clusterName: pulumi.Input<string>;
  readonly serviceName: pulumi.Input<string>;
  readonly loadBalancerArnSuffix: pulumi.Input<string>;
  readonly targetGroupArnSuffix: pulumi.Input<string>;
  /** SNS topics the gateway alarms notify (queue and persister alarms live in their components). */
  readonly alarmActions?: AlarmActions;
  readonly tags?: Tags;
}

export interface DashboardInputs {
  readonly region: string;
  readonly queues: readonly { label: string; queueName: string; dlqName: string }[];
  readonly functionName: string;
  readonly clusterName: string;
  readonly serviceName: string;
  readonly loadBalancer: string;
  readonly targetGroup: string;
}

type Metric = (string | Record<string, unknown>)[];

function widget(title: string, metrics: Metric[], x: number, y: number, stat = "Maximum") {
  return {
    type: "metric",
    x,
    y,
    width: 12,
    height: 6,
    properties: { title, metrics, stat, period: 60, view: "timeSeries" },
  };
}

/**
 * The dashboard body: queue depth and age (main and DLQ), persister errors/duration/throttles, ECS CPU
 * and memory, ALB 5xx, active connections and healthy hosts. Pure, so a test can read it.
 */
export function dashboardBody(d: DashboardInputs): string {
  const widgets = [
    widget(
      "Queue depth",
      d.queues.flatMap((q) => [
        ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", q.queueName, { label: `${q.label}` }],
        ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", q.dlqName, { label: `${q.label} DLQ` }],
      ]),
      0,
      0,
    ),
    widget(
      "Oldest message age (s)",
      d.queues.map((q) => ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", q.queueName, { label: q.label }]),
      12,
      0,
    ),
    widget(
      "Persister",
      [
        ["AWS/Lambda", "Errors", "FunctionName", d.functionName, { stat: "Sum" }],
        ["AWS/Lambda", "Throttles", "FunctionName", d.functionName, { stat: "Sum" }],
        ["AWS/Lambda", "Duration", "FunctionName", d.functionName, { stat: "p99", yAxis: "right" }],
      ],
      0,
      6,
    ),
    widget(
      "Gateway tasks",
      [
        ["AWS/ECS", "CPUUtilization", "ClusterName", d.clusterName, "ServiceName", d.serviceName, { stat: "Average" }],
        [
          "AWS/ECS",
          "MemoryUtilization",
          "ClusterName",
          d.clusterName,
          "ServiceName",
          d.serviceName,
          { stat: "Average" },
        ],
      ],
      12,
      6,
    ),
    widget(
      "Load balancer",
      [
        ["AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", "LoadBalancer", d.loadBalancer, { stat: "Sum" }],
        ["AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "LoadBalancer", d.loadBalancer, { stat: "Sum" }],
        [
          "AWS/ApplicationELB",
          "ActiveConnectionCount",
          "LoadBalancer",
          d.loadBalancer,
          { stat: "Sum", yAxis: "right" },
        ],
        [
          "AWS/ApplicationELB",
          "HealthyHostCount",
          "TargetGroup",
          d.targetGroup,
          "LoadBalancer",
          d.loadBalancer,
          { stat: "Minimum", yAxis: "right" },
        ],
      ],
      0,
      12,
    ),
  ];
  for (const w of widgets) (w.properties as Record<string, unknown>).region = d.region;
  return JSON.stringify({ widgets });
}

/**
 * The CloudWatch dashboard for one stack and the gateway-side alarms (the ALB's own 5xx, the gateways' 5xx,
 * no healthy targets, sustained high CPU). Queue and persister alarms belong to QueueWithDlq and Persister.
 */
export class Monitoring extends pulumi.ComponentResource {
  /** Console URL of the dashboard. */
  public readonly dashboardUrl: pulumi.Output<string>;

  constructor(name: string, args: MonitoringArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("parley:monitoring:Monitoring", name, {}, opts);
    if (args.queues.length === 0) throw new Error(`Monitoring ${name}: queues must not be empty`);
    const a = { alarmActions: [] as AlarmActions, ...args };
    const region = aws.getRegionOutput({}, { parent: this }).region;

    const queueNames = pulumi.all(
      args.queues.map((q) =>
        pulumi.all([q.queueName, q.dlqName]).apply(([queueName, dlqName]) => ({ label: q.label, queueName, dlqName })),
      ),
    );
    const dashboard = new aws.cloudwatch.Dashboard(
      `${name}-dashboard`,
      {
        dashboardName: args.namePrefix,
        dashboardBody: pulumi
          .all([
            region,
            queueNames,
            args.persisterFunctionName,
            args.clusterName,
            args.serviceName,
            args.loadBalancerArnSuffix,
            args.targetGroupArnSuffix,
          ])
          .apply(([r, qs, functionName, clusterName, serviceName, loadBalancer, targetGroup]) =>
            dashboardBody({ region: r, queues: qs, functionName, clusterName, serviceName, loadBalancer, targetGroup }),
          ),
      },
      { parent: this },
    );
    this.dashboardUrl = pulumi.interpolate`https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards:name=${dashboard.dashboardName}`;

    const target = { actions: a.alarmActions, tags: args.tags };
    const lb = { LoadBalancer: args.loadBalancerArnSuffix };
    const targetGroup = { ...lb, TargetGroup: args.targetGroupArnSuffix };
    const alarms: Record<string, MetricAlarmSpec> = {
      "alb-5xx": {
        description: "The load balancer answers 5xx itself: no healthy gateway, or gateways resetting or timing out.",
        namespace: "AWS/ApplicationELB",
        metricName: "HTTPCode_ELB_5XX_Count",
        dimensions: lb,
        statistic: "Sum",
        evaluationPeriods: 5,
        threshold: 10,
      },
      "target-5xx": {
        description: "The gateways answer 5xx: an API handler or a store call is failing.",
        namespace: "AWS/ApplicationELB",
        metricName: "HTTPCode_Target_5XX_Count",
        dimensions: targetGroup,
        statistic: "Sum",
        evaluationPeriods: 5,
        threshold: 10,
      },
      "no-healthy-gateways": {
        description: `No gateway task passes the load balancer health check (${LB_HEALTH_PATH}): the app is down.`,
        namespace: "AWS/ApplicationELB",
        metricName: "HealthyHostCount",
        dimensions: targetGroup,
        statistic: "Minimum",
        evaluationPeriods: 2,
        threshold: 1,
        comparisonOperator: "LessThanThreshold",
        treatMissingData: "breaching",
      },
      "gateway-cpu": {
        description: "Gateway CPU stays high: autoscaling is at its ceiling or too slow.",
        namespace: "AWS/ECS",
        metricName: "CPUUtilization",
        dimensions: { ClusterName: args.clusterName, ServiceName: args.serviceName },
        statistic: "Average",
        evaluationPeriods: 10,
        threshold: 85,
      },
    };
    for (const [suffix, spec] of Object.entries(alarms))
      metricAlarm(`${name}-${suffix}`, spec, target, { parent: this });

    this.registerOutputs({ dashboardUrl: this.dashboardUrl });
  }
}
