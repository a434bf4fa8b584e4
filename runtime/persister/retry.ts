/**
 * When a failed inbound record comes back. Left alone, SQS hands a failed record out again only after the
 * queue's visibility timeout (180 s), and FIFO holds every later message of its conversation behind it. So
 * before the handler returns its partial batch failure it shortens the visibility of what failed:
 *   - a record that failed for a reason that may pass (DynamoDB error, seq contention, deadline, notify send)
 *     comes back after a short backoff from its receive count: 1 s, 2 s, 4 s … (capped). The same delay is set
 *     on the records of its group batched behind it, which failed with it (FIFO: none is stored before it).
 *     Its last two attempts keep the queue's visibility timeout, so an outage that outlasts the fast retries
 *     is not dead-lettered within seconds: with maxReceiveCount 5 the attempts come at 0, 1, 3, 7 s and
 *     7 s + timeout, and the DLQ only takes it one more timeout later.
 *   - a record that can never be stored (PoisonMessageError) holds no place in the order (it takes no seq), so
 *     it is made visible at once: its remaining receives burn within seconds and the queue's redrive policy
 *     moves it to the DLQ (maxReceiveCount stays the one rule that dead-letters anything).
 * Nothing here deletes or sends a record anywhere; a visibility change that fails only means the record waits
 * out the visibility timeout, as before.
 */
import { ChangeMessageVisibilityBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { inSqsBatches } from "../aws/batches";
import type { SqsRecord } from "./sqs-event";

/** First retry delay; each further receive doubles it. */
export const RETRY_BASE_SECONDS = 1;
/** Longest backoff the handler sets (only reached with a maxReceiveCount above 6). */
export const RETRY_CAP_SECONDS = 30;
/** Visibility of a record that can never be stored. */
export const POISON_VISIBILITY_SECONDS = 0;

/**
 * Seconds until a record that failed on its `receiveCount`-th receive (SQS's ApproximateReceiveCount, 1 on the
 * first) is handed out again, or undefined to keep the queue's visibility timeout: the attempts that would be the
 * last ones before maxReceiveCount dead-letters the record are not hurried.
 */
export function retryDelaySeconds(receiveCount: number, maxReceiveCount: number): number | undefined {
  const n = Number.isInteger(receiveCount) && receiveCount >= 1 ? receiveCount : 1;
  if (n >= maxReceiveCount - 1) return undefined;
  return Math.min(RETRY_BASE_SECONDS * 2 ** (n - 1), RETRY_CAP_SECONDS);
}

export interface VisibilityChange {
  readonly record: SqsRecord;
  readonly seconds: number;
}

const receiveCountOf = (r: SqsRecord) => Number(r.attributes.ApproximateReceiveCount);

/**
 * The visibility to set on each failed record. `groups`: the batch's records by FIFO group, in queue order.
 * Every retryable failure of a group gets one delay, from the highest receive count among them, so the group's
 * records come back together, its head first, and none of them is hurried towards the DLQ.
 */
export function visibilityChanges(
  groups: readonly (readonly SqsRecord[])[],
  failed: ReadonlySet<string>,
  poison: ReadonlySet<string>,
  maxReceiveCount: number,
): VisibilityChange[] {
  const changes: VisibilityChange[] = [];
  for (const group of groups) {
    const retryable = group.filter((r) => failed.has(r.messageId) && !poison.has(r.messageId));
    const delay = retryable.length
      ? retryDelaySeconds(
          Math.max(...retryable.map(receiveCountOf).map((n) => (Number.isFinite(n) ? n : 1))),
          maxReceiveCount,
        )
      : undefined;
    for (const record of group) {
      if (!failed.has(record.messageId)) continue;
      if (poison.has(record.messageId)) changes.push({ record, seconds: POISON_VISIBILITY_SECONDS });
      else if (delay !== undefined) changes.push({ record, seconds: delay });
    }
  }
  return changes;
}

export interface VisibilityLog {
  warn(fields: Record<string, unknown>, msg: string): void;
}

/** ChangeMessageVisibilityBatch, 10 entries a call. Never throws: a change not made leaves the timeout. */
export async function applyVisibilityChanges(
  sqs: SQSClient,
  queueUrl: string,
  changes: readonly VisibilityChange[],
  log: VisibilityLog,
): Promise<void> {
  await inSqsBatches(changes, async (chunk) => {
    try {
      const out = await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: chunk.map((c, i) => ({
            Id: String(i),
            ReceiptHandle: c.record.receiptHandle,
            VisibilityTimeout: c.seconds,
          })),
        }),
      );
      for (const f of out.Failed ?? []) {
        const c = chunk[Number(f.Id)];
        log.warn(
          { messageId: c?.record.messageId, visibilitySeconds: c?.seconds, code: f.Code, reason: f.Message },
          "could not shorten a failed record's visibility; it returns after the visibility timeout",
        );
      }
    } catch (err) {
      log.warn(
        { messageIds: chunk.map((c) => c.record.messageId), reason: String(err) },
        "could not shorten failed records' visibility; they return after the visibility timeout",
      );
    }
  });
}
