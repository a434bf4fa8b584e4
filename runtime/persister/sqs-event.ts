/** The slice of Lambda's SQS event shape the persister reads (aws-lambda's SQSEvent, without the dependency). */
export interface SqsRecord {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly body: string;
  readonly attributes: {
    readonly ApproximateReceiveCount: string;
    readonly SentTimestamp: string;
    readonly MessageGroupId?: string;
    readonly MessageDeduplicationId?: string;
    readonly SequenceNumber?: string;
    readonly [name: string]: string | undefined;
  };
  readonly messageAttributes: Record<string, unknown>;
  readonly md5OfBody: string;
  readonly eventSource: "aws:sqs";
  readonly eventSourceARN: string;
  readonly awsRegion: string;
}

export interface SqsEvent {
  readonly Records: readonly SqsRecord[];
}

/** Lambda's partial batch response: the listed messages return to the queue; the rest are deleted. */
export interface SqsBatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}
