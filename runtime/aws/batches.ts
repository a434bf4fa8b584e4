/**
 * Chunking for AWS batch calls. SQS takes at most 10 entries in every batch call (SendMessageBatch,
 * DeleteMessageBatch, ChangeMessageVisibilityBatch) and returns at most 10 messages per ReceiveMessage. DynamoDB's
 * limits (25 writes, 100 gets) are in runtime/store/batch.ts.
 */
export const SQS_BATCH_MAX = 10;

/** `items` cut into consecutive runs of at most `size`. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** One SQS batch call per 10 items, all in flight at once. `call` handles its own failures. */
export async function inSqsBatches<T>(items: readonly T[], call: (chunk: T[]) => Promise<void>): Promise<void> {
  await Promise.all(chunks(items, SQS_BATCH_MAX).map(call));
}
