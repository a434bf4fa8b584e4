/**
 * A local stand-in for Lambda's SQS event source mapping: long-poll the queue, hand batches to the handler in
 * Lambda's event shape, delete only what the handler did not report as failed. Failed records stay invisible
 * until the queue's visibility timeout and come back with a higher receive count; the queue's redrive policy
 * moves them to the DLQ after maxReceiveCount — exactly as in AWS. Like Lambda's mapping, this source never
 * touches a failed record itself: the handler shortens their visibility on the queue before it returns (retry
 * backoff, poison burnt towards the DLQ: runtime/persister/retry.ts), and the queue honours it here as in AWS.
 * So the backoff is one piece of logic, the handler's, wherever it runs.
 */
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { MAX_PERSISTER_BATCH } from "../contracts";
import type { SqsBatchResponse, SqsEvent, SqsRecord } from "../persister/sqs-event";

export interface EventSourceOptions {
  readonly sqs: SQSClient;
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
  private readonly opts: Required<Omit<EventSourceOptions, "onError">> & Pick<EventSourceOptions, "onError">;
  private readonly abort = new AbortController();
  private workers: Promise<void>[] = [];
  private queueArn = "";

  constructor(options: EventSourceOptions) {
    this.opts = { ...defaults, ...options };
    if (this.opts.batchSize < 1 || this.opts.batchSize > MAX_PERSISTER_BATCH) {
      throw new Error(`batchSize must be between 1 and ${MAX_PERSISTER_BATCH}, got ${this.opts.batchSize}`);
    }
  }

  async start(): Promise<void> {
    const attrs = await this.opts.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: this.opts.queueUrl, AttributeNames: ["QueueArn"] }),
    );
    this.queueArn = attrs.Attributes?.QueueArn ?? this.opts.queueUrl;
    this.workers = Array.from({ length: this.opts.concurrency }, () => this.poll());
  }

  /** Stops receiving, lets batches in flight finish (their deletes included). */
  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.all(this.workers);
  }

  private async poll(): Promise<void> {
    let backoffMs = 50;
    while (!this.abort.signal.aborted) {
      let messages: Message[];
      try {
        const out = await this.opts.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: this.opts.queueUrl,
            MaxNumberOfMessages: this.opts.batchSize,
            WaitTimeSeconds: this.opts.waitTimeSeconds,
            MessageSystemAttributeNames: ["All"],
          }),
          { abortSignal: this.abort.signal },
        );
        messages = out.Messages ?? [];
        backoffMs = 50;
      } catch (err) {
        if (this.abort.signal.aborted) return;
        this.opts.onError?.(err, "receive");
        await new Promise((r) => setTimeout(r, backoffMs));
        backoffMs = Math.min(backoffMs * 2, 2_000);
        continue;
      }
      if (messages.length) await this.deliver(messages);
    }
  }

  private async deliver(messages: Message[]): Promise<void> {
    const records = messages.map((m) => toLambdaRecord(m, this.queueArn, this.opts.region));
    let failed: Set<string>;
    try {
      const res = await this.opts.handler({ Records: records });
      failed = new Set(res.batchItemFailures.map((f) => f.itemIdentifier));
    } catch (err) {
      // A thrown handler fails the whole batch, as in Lambda.
      this.opts.onError?.(err, "handler");
      return;
    }
    const done = records.filter((r) => !failed.has(r.messageId));
    if (!done.length) return;
    try {
      const out = await this.opts.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.opts.queueUrl,
          Entries: done.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
        }),
      );
      if (out.Failed?.length) this.opts.onError?.(new Error(JSON.stringify(out.Failed)), "delete");
    } catch (err) {
      // Undeleted records come back after the visibility timeout; the persister's dedupe absorbs them.
      this.opts.onError?.(err, "delete");
    }
  }
}
