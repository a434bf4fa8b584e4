import { SendMessageBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { inSqsBatches } from "../aws/batches";
import { encodeQueueBody, type Notification } from "../contracts";

export interface PendingNotification {
  /** The SQS record the notification belongs to; it fails if its notification is not sent. */
  readonly recordId: string;
  readonly dedupeKey: string;
  readonly notification: Notification;
}

/**
 * Sends notifications in batches of 10 (the SQS limit) and returns the record ids whose notification
 * could not be sent. Those records are retried; the retry finds the message stored and notifies again.
 */
export async function publishNotifications(
  sqs: SQSClient,
  queueUrl: string,
  pending: readonly PendingNotification[],
): Promise<Set<string>> {
  const failed = new Set<string>();
  await inSqsBatches(pending, async (chunk) => {
    try {
      const out = await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: chunk.map((p, i) => ({ Id: String(i), MessageBody: encodeQueueBody(p.notification) })),
        }),
      );
      for (const f of out.Failed ?? []) failed.add(chunk[Number(f.Id)]!.recordId);
    } catch {
      for (const p of chunk) failed.add(p.recordId);
    }
  });
  return failed;
}
