import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface AlertsArgs {
  readonly namePrefix: string;
  /** Subscribed by email when set (the recipient must confirm the subscription). */
  readonly email?: pulumi.Input<string>;
  readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
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
    }
    this.topicArn = topic.arn;

    this.registerOutputs({ topicArn: this.topicArn });
  }
}
