/**
 * Lambda SQS event records as the event source mapping builds them, for persister tests that call the handler
 * without a queue. Framework-free so the chaos runner (tsx) and jest share it.
 */
import { randomUUID } from "node:crypto";
import { LOCAL_REGION } from "../../runtime/contracts";
import type { SqsRecord } from "../../runtime/persister/sqs-event";

export interface SqsRecordOptions {
  readonly id?: string;
  /** Default: the message id. */
  readonly receiptHandle?: string;
  readonly receiveCount?: number;
  /** SentTimestamp in ms; default now. */
  readonly sentAt?: number;
  /** The queue named in the record's ARN; default the inbound queue. */
  readonly queueName?: string;
}

/** A string body is sent verbatim (poison bodies); anything else as JSON. */
export function sqsRecord(body: unknown, group: string, opts: SqsRecordOptions = {}): SqsRecord {
  const id = opts.id ?? randomUUID();
  return {
    messageId: id,
    receiptHandle: opts.receiptHandle ?? id,
    body: typeof body === "string" ? body : JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: String(opts.receiveCount ?? 1),
      SentTimestamp: String(opts.sentAt ?? Date.now()),
      MessageGroupId: group,
    },
    messageAttributes: {},
    md5OfBody: "",
    eventSource: "aws:sqs",
    eventSourceARN: sqsArn(opts.queueName ?? "inbound.fifo"),
    awsRegion: LOCAL_REGION,
  };
}

/** A queue's ARN in the local region (the emulators' account id). */
export const sqsArn = (queueName: string): string => `arn:aws:sqs:${LOCAL_REGION}:000000000000:${queueName}`;
