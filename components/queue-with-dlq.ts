import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { metricAlarm } from "./alerts";
import type { QueueDefinition, QueueNames } from "../runtime/contracts";
import type { AlarmActions, Tags } from "./types";

export interface QueueWithDlqArgs {
  /** The contract entry (FIFO, timeouts, retention, maxReceiveCount); decides which attributes exist. */
  readonly definition: QueueDefinition;
  /** Physical names from `queueNamesFor`; FIFO names end in `.fifo`. */
  readonly names: QueueNames;
  /** Overrides the contract's visibility timeout (e.g. sized to a consumer's timeout). */
  readonly visibilityTimeoutSeconds?: pulumi.Input<number>;
  /** Alarm when the oldest message waiting in the main queue is older than this. */
  readonly maxMessageAgeSeconds?: pulumi.Input<number>;
  /** SNS topic ARNs notified by both alarms. */
  readonly alarmActions?: AlarmActions;
  readonly tags?: Tags;
}

/**
 * An SQS queue with its dead-letter queue: SSE on both, a redrive policy after
 * `maxReceiveCount` receives, a redrive-allow policy that admits only this source, and alarms on
 * any message in the DLQ and on the age of the oldest message in the main queue. A message that
 * keeps failing therefore ends in the DLQ with an alarm, never silently dropped.
 */
export class QueueWithDlq extends pulumi.ComponentResource {
  /** The main queue. */
  public readonly queue: aws.sqs.Queue;
  /** Where messages land after `maxReceiveCount` failed receives. */
  public readonly deadLetterQueue: aws.sqs.Queue;
  /** Fires when the DLQ holds any message. */
  public readonly dlqDepthAlarm: aws.cloudwatch.MetricAlarm;
  /** Fires when the main queue's oldest message is older than `maxMessageAgeSeconds`. */
  public readonly oldestMessageAlarm: aws.cloudwatch.MetricAlarm;

  constructor(name: string, args: QueueWithDlqArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("parley:queues:QueueWithDlq", name, {}, opts);

    const def = args.definition;
    const fifoSuffix = ".fifo";
    for (const field of ["name", "dlqName"] as const) {
      if (args.names[field].endsWith(fifoSuffix) !== def.fifo) {
        throw new Error(
          `QueueWithDlq ${name}: names.${field} "${args.names[field]}" must ${def.fifo ? "" : "not "}end in .fifo when definition.fifo is ${def.fifo}`,
        );
      }
    }
    if (!Number.isInteger(def.maxReceiveCount) || def.maxReceiveCount < 1 || def.maxReceiveCount > 1000) {
      throw new Error(`QueueWithDlq ${name}: definition.maxReceiveCount must be an integer in [1, 1000]`);
    }
    const a = {
      visibilityTimeoutSeconds: def.visibilityTimeoutSeconds as pulumi.Input<number>,
      maxMessageAgeSeconds: 300 as pulumi.Input<number>,
      alarmActions: [] as AlarmActions,
      ...args,
    };

    // High-throughput FIFO: order and dedupe per message group (conversation), not per queue.
    const fifo = def.fifo
      ? {
          fifoQueue: true,
          contentBasedDeduplication: false,
          deduplicationScope: "messageGroup",
          fifoThroughputLimit: "perMessageGroupId",
        }
      : {};

    this.deadLetterQueue = new aws.sqs.Queue(
      `${name}-dlq`,
      {
        name: args.names.dlqName,
        ...(def.fifo ? { fifoQueue: true } : {}),
        messageRetentionSeconds: def.dlqRetentionSeconds,
        sqsManagedSseEnabled: true,
        tags: args.tags,
      },
      { parent: this },
    );

    this.queue = new aws.sqs.Queue(
      `${name}-queue`,
      {
        name: args.names.name,
        ...fifo,
        visibilityTimeoutSeconds: a.visibilityTimeoutSeconds,
        messageRetentionSeconds: def.messageRetentionSeconds,
        receiveWaitTimeSeconds: def.receiveWaitTimeSeconds,
        sqsManagedSseEnabled: true,
        redrivePolicy: pulumi
          .output(this.deadLetterQueue.arn)
          .apply((deadLetterTargetArn) =>
            JSON.stringify({ deadLetterTargetArn, maxReceiveCount: def.maxReceiveCount }),
          ),
        tags: args.tags,
      },
      { parent: this },
    );

    // Only this queue may dead-letter into the DLQ; a separate resource breaks the ARN cycle.
    new aws.sqs.RedriveAllowPolicy(
      `${name}-dlq-allow`,
      {
        queueUrl: this.deadLetterQueue.url,
        redriveAllowPolicy: pulumi
          .output(this.queue.arn)
          .apply((arn) => JSON.stringify({ redrivePermission: "byQueue", sourceQueueArns: [arn] })),
      },
      { parent: this },
    );

    const target = { actions: a.alarmActions, tags: args.tags };
    this.dlqDepthAlarm = metricAlarm(
      `${name}-dlq-depth`,
      {
        description: pulumi.interpolate`Messages in ${this.deadLetterQueue.name}: they failed ${def.maxReceiveCount} times and wait for inspection (npm run dlq).`,
        namespace: "AWS/SQS",
        metricName: "ApproximateNumberOfMessagesVisible",
        dimensions: { QueueName: this.deadLetterQueue.name },
        statistic: "Maximum",
        evaluationPeriods: 1,
        threshold: 0,
      },
      target,
      { parent: this },
    );

    this.oldestMessageAlarm = metricAlarm(
      `${name}-oldest-message`,
      {
        description: pulumi.interpolate`The oldest message in ${this.queue.name} is older than expected: its consumer is stalled or failing.`,
        namespace: "AWS/SQS",
        metricName: "ApproximateAgeOfOldestMessage",
        dimensions: { QueueName: this.queue.name },
        statistic: "Maximum",
        evaluationPeriods: 5,
        threshold: a.maxMessageAgeSeconds,
      },
      target,
      { parent: this },
    );

    this.registerOutputs({
      queue: this.queue,
      deadLetterQueue: this.deadLetterQueue,
      dlqDepthAlarm: this.dlqDepthAlarm,
      oldestMessageAlarm: this.oldestMessageAlarm,
    });
  }
}
