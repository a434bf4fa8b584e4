/**
 * A local stand-in for Lambda's SQS event source mapping: long-poll the queue, hand batches to the handler in
 * Lambda's event shape, delete only what the handler did not report as failed. Failed records stay invisible
 * until the queue's visibility timeout and come back with a higher receive count; the queue's redrive policy
 * moves them to the DLQ after maxReceiveCount — exactly as in AWS. Like Lambda's mapping, this source never
 * touches a failed record itself: the handler shortens their visibility on the queue before it returns (retry
 * backoff, poison burnt towards the DLQ: runtime/persister/retry.ts), and the queue honours it here as in AWS.
 * So the backoff is one piece of logic, the handler's, wherever it runs. The receive loop itself is the shared
 * queue-consumer lifecycle (runtime/aws/queue-consumer.ts).
 */
import { GetQueueAttributesCommand, type Message, type SQSClient } from "@aws-sdk/client-sqs";
import { QueueConsumer } from "../aws/queue-consumer";
import { MAX_PERSISTER_BATCH } from "../contracts";
import type { SqsBatchResponse, SqsEvent, SqsRecord } from "../persister/sqs-event";

export interface EventSourceOptions {
  readonly sqs: SQSClient;
  /** The receives' client (default `sqs`): runtime/aws/clients.ts says why it is a separate one. */
  readonly pollSqs?: SQSClient;
  readonly queueUrl: string;
  readonly region: string;
  readonly handler: (event: SqsEvent) => Promise<SqsBatchResponse>;
  /** Records per batch, at most 10 (Lambda's FIFO limit). */
  readonly batchSize?: number;
  readonly waitTimeSeconds?: number;
  /** Batches in flight at once. FIFO groups stay serial: SQS locks a group while its messages are in flight. */
  readonly concurrency?: number;
  readonly onError?: (err: unknown, context: string) => void;
}

const defaults = { batchSize: MAX_PERSISTER_BATCH, waitTimeSeconds: 1, concurrency: 2 };

export function toLambdaRecord(m: Message, queueArn: string, region: string): SqsRecord {
  return {
    messageId: m.MessageId!,
    receiptHandle: m.ReceiptHandle!,
    body: m.Body ?? "",
    attributes: {
      ApproximateReceiveCount: "1",
      SentTimestamp: String(Date.now()),
      ...(m.Attributes as Record<string, string>),
    },
    messageAttributes: {},
    md5OfBody: m.MD5OfBody ?? "",
    eventSource: "aws:sqs",
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

export class SqsEventSource {
  private readonly opts: Required<Omit<EventSourceOptions, "onError" | "pollSqs">> &
    Pick<EventSourceOptions, "onError" | "pollSqs">;
  private consumer?: QueueConsumer;

  constructor(options: EventSourceOptions) {
    this.opts = { ...defaults, ...options };
    if (this.opts.batchSize < 1 || this.opts.batchSize > MAX_PERSISTER_BATCH) {
      throw new Error(`batchSize must be between 1 and ${MAX_PERSISTER_BATCH}, got ${this.opts.batchSize}`);
    }
  }

  async start(): Promise<void> {
    const { sqs, queueUrl, region, handler, onError } = this.opts;
    const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }));
    const queueArn = attrs.Attributes?.QueueArn ?? queueUrl;
    this.consumer = new QueueConsumer({
      sqs,
      pollSqs: this.opts.pollSqs,
      queueUrl,
      // One poller keeps up to `concurrency` batches in flight, as the event source mapping does; more pollers
      // would only add receives that come back empty at the end of their wait.
      receivers: 1,
      handlersInFlight: this.opts.concurrency,
      maxMessages: this.opts.batchSize,
      waitTimeSeconds: this.opts.waitTimeSeconds,
      attributeNames: ["All"],
      handle: async (messages) => {
        const records = messages.map((m) => toLambdaRecord(m, queueArn, region));
        // A thrown handler fails the whole batch, as in Lambda.
        const failed = new Set((await handler({ Records: records })).batchItemFailures.map((f) => f.itemIdentifier));
        return messages.filter((m) => !failed.has(m.MessageId!));
      },
      onError: (err, phase) => onError?.(err, phase === "handle" ? "handler" : phase),
    });
    this.consumer.start();
  }

  /** Stops receiving, lets batches in flight finish (their deletes included). */
  async stop(): Promise<void> {
    await this.consumer?.stop();
  }
}
