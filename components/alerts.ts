import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { AlarmActions, Tags } from "./types";

export interface AlertsArgs {
  readonly namePrefix: string;
  /** Subscribed by email when set (the recipient must confirm the subscription). */
  readonly email?: pulumi.Input<string>;
  readonly tags?: Tags;
}

/** The SNS topic every Parley alarm notifies, with an optional email subscription. */
export class Alerts extends pulumi.ComponentResource {
  /** ARN to pass as alarmActions. */
  public readonly topicArn: pulumi.Output<string>;

  constructor(name: string, args: AlertsArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("parley:monitoring:Alerts", name, {}, opts);
    if (!args.namePrefix) throw new Error(`Alerts ${name}: namePrefix is required`);

    // No SSE with alias/aws/sns: CloudWatch alarms cannot publish to a topic under that key
    // (its key policy does not admit cloudwatch.amazonaws.com), and alarms carry no message data.
    const topic = new aws.sns.Topic(
      `${name}-topic`,
      { name: `${args.namePrefix}-alarms`, tags: args.tags },
      { parent: this },
    );
    if (args.email !== undefined) {
      new aws.sns.TopicSubscription(
        `${name}-email`,
        { topic: topic.arn, protocol: "email", endpoint: args.email },
        { parent: this },
      );
    } else {
      // Alarms still fire and show in the console, but nobody is told: say so at every `up`.
      void pulumi.log.warn(
        `No one is subscribed to the alarm topic ${args.namePrefix}-alarms, so alarms notify nobody: set parley:alarmEmail, or subscribe to the alarmTopicArn output.`,
        this,
      );
    }
    this.topicArn = topic.arn;

    this.registerOutputs({ topicArn: this.topicArn });
  }
}

/** What every Parley alarm sets; the rest (missing data, actions, tags) is the same for all. */
interface AlarmSpecBase {
  readonly description: pulumi.Input<string>;
  readonly threshold: pulumi.Input<number>;
  readonly evaluationPeriods: number;
  /** Seconds; default 60. */
  readonly period?: number;
  /** Default: fire above the threshold. */
  readonly comparisonOperator?: "GreaterThanThreshold" | "LessThanThreshold";
  /** Default notBreaching: no data means nothing is wrong (an idle queue, a quiet function). */
  readonly treatMissingData?: "notBreaching" | "breaching";
}

export type AlarmStatistic = "Sum" | "Average" | "Minimum" | "Maximum";

/** One CloudWatch metric. */
export interface MetricRef {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: pulumi.Input<Record<string, pulumi.Input<string>>>;
  readonly statistic: AlarmStatistic;
}

export interface MetricAlarmSpec extends AlarmSpecBase, MetricRef {}

/** An alarm on a metric math expression over named metrics (e.g. an error rate: errors / invocations). */
export interface MathAlarmSpec extends AlarmSpecBase {
  /** Metric math over the ids of `metrics`, e.g. `100 * errors / invocations`. */
  readonly expression: string;
  /** Shown for the expression in the console. */
  readonly label: string;
  /** The expression's inputs by id (ids start with a lower-case letter). */
  readonly metrics: Readonly<Record<string, MetricRef>>;
}

export interface AlarmTarget {
  /** Notified on ALARM and on OK. */
  readonly actions: AlarmActions;
  readonly tags?: Tags;
}

function alarmArgs(spec: AlarmSpecBase, target: AlarmTarget) {
  return {
    alarmDescription: spec.description,
    evaluationPeriods: spec.evaluationPeriods,
    threshold: spec.threshold,
    comparisonOperator: spec.comparisonOperator ?? "GreaterThanThreshold",
    treatMissingData: spec.treatMissingData ?? "notBreaching",
    alarmActions: target.actions,
    okActions: target.actions,
    tags: target.tags,
  };
}

/** A CloudWatch alarm on one metric that notifies `target` when it fires and when it clears. */
export function metricAlarm(
  name: string,
  spec: MetricAlarmSpec,
  target: AlarmTarget,
  opts: pulumi.CustomResourceOptions,
): aws.cloudwatch.MetricAlarm {
  return new aws.cloudwatch.MetricAlarm(
    name,
    {
      ...alarmArgs(spec, target),
      namespace: spec.namespace,
      metricName: spec.metricName,
      dimensions: spec.dimensions,
      statistic: spec.statistic,
      period: spec.period ?? 60,
    },
    opts,
  );
}

/** A CloudWatch alarm on a metric math expression, notifying `target` when it fires and when it clears. */
export function mathAlarm(
  name: string,
  spec: MathAlarmSpec,
  target: AlarmTarget,
  opts: pulumi.CustomResourceOptions,
): aws.cloudwatch.MetricAlarm {
  const period = spec.period ?? 60;
  return new aws.cloudwatch.MetricAlarm(
    name,
    {
      ...alarmArgs(spec, target),
      metricQueries: [
        ...Object.entries(spec.metrics).map(([id, m]) => ({
          id,
          metric: {
            namespace: m.namespace,
            metricName: m.metricName,
            dimensions: m.dimensions,
            stat: m.statistic,
            period,
          },
          returnData: false,
        })),
        { id: "result", expression: spec.expression, label: spec.label, returnData: true },
      ],
    },
    opts,
  );
}
