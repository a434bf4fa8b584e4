/**
 * The BatchWriteItem / BatchGetItem loops every store helper goes through, obeying two AWS rules:
 * - a request that names the same key twice is refused whole (`ValidationException: Provided list of item keys
 *   contains duplicates`), so keys are de-duplicated before they are chunked;
 * - a call may succeed with part of the work returned as `UnprocessedItems` / `UnprocessedKeys` (throttling,
 *   the 16 MB response cap), so the rest is retried with exponential backoff and jitter, a bounded number of
 *   times, and an error is thrown if some is still left.
 */
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  BatchWriteCommand,
  type BatchWriteCommandOutput,
} from "@aws-sdk/lib-dynamodb";
import { chunks } from "../aws/batches";
import type { Key } from "./paging";
import { type DocumentClient } from "../aws/document-client";

/** AWS limits per call. */
export const BATCH_WRITE_MAX = 25;
export const BATCH_GET_MAX = 100;
/** Calls per chunk before giving up on what is still unprocessed. */
export const BATCH_ATTEMPTS = 8;

/** A stable identity for a key object, whatever order its attributes were written in. */
export function keyId(key: Key): string {
  return JSON.stringify(
    Object.keys(key)
      .sort()
      .map((k) => [k, key[k]]),
  );
}

/** `keys` without repeats, first occurrence kept. */
export function uniqueKeys<K extends Key>(keys: readonly K[]): K[] {
  const seen = new Set<string>();
  return keys.filter((k) => {
    const id = keyId(k);
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

/** Full jitter on 20 ms · 2^attempt, capped at 1 s (AWS's advice for unprocessed items). */
function backoff(attempt: number): Promise<void> {
  const ceiling = Math.min(1_000, 20 * 2 ** attempt);
  return new Promise((r) => setTimeout(r, ceiling / 2 + (Math.random() * ceiling) / 2));
}

/**
 * The one retry policy for batch calls: `call` does one request for `pending` and returns what DynamoDB left
 * unprocessed; that is sent again after a backoff, up to BATCH_ATTEMPTS calls, and an error names what is left.
 */
async function untilProcessed<T>(
  pending: T[],
  call: (pending: T[]) => Promise<T[] | undefined>,
  leftOver: (count: number) => string,
): Promise<void> {
  let rest: T[] | undefined = pending;
  for (let attempt = 0; rest?.length && attempt < BATCH_ATTEMPTS; attempt++) {
    if (attempt) await backoff(attempt);
    rest = await call(rest);
  }
  if (rest?.length) throw new Error(leftOver(rest.length));
}

type WriteRequests = NonNullable<BatchWriteCommandOutput["UnprocessedItems"]>[string];

async function batchWriteAll(ddb: DocumentClient, table: string, requests: WriteRequests, what: string): Promise<void> {
  for (const chunk of chunks(requests, BATCH_WRITE_MAX)) {
    await untilProcessed<WriteRequests[number]>(
      chunk,
      async (pending) => {
        const out = await ddb.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }));
        return out.UnprocessedItems?.[table];
      },
      (n) => `BatchWrite left ${n} ${what} in ${table} unprocessed`,
    );
  }
}

/** Deletes every key of `table` (duplicates dropped), 25 per call, retrying unprocessed deletes. */
export async function batchDeleteAll(ddb: DocumentClient, table: string, keys: readonly Key[]): Promise<void> {
  await batchWriteAll(
    ddb,
    table,
    uniqueKeys(keys).map((Key) => ({ DeleteRequest: { Key } })),
    "deletes",
  );
}

/** Puts every item into `table` (keys must be distinct), 25 per call, retrying unprocessed puts. */
export async function batchPutAll(ddb: DocumentClient, table: string, items: readonly object[]): Promise<void> {
  await batchWriteAll(
    ddb,
    table,
    items.map((Item) => ({ PutRequest: { Item: { ...Item } } })),
    "puts",
  );
}

/** The items found for `keys` (duplicates dropped; missing keys are simply absent), 100 per call. */
export async function batchGetAll<T>(
  ddb: DocumentClient,
  table: string,
  keys: readonly Key[],
  consistent = false,
): Promise<T[]> {
  const found: T[] = [];
  for (const chunk of chunks(uniqueKeys(keys), BATCH_GET_MAX)) {
    await untilProcessed(
      chunk,
      async (pending) => {
        const out: BatchGetCommandOutput = await ddb.send(
          new BatchGetCommand({ RequestItems: { [table]: { Keys: pending, ConsistentRead: consistent } } }),
        );
        found.push(...((out.Responses?.[table] ?? []) as T[]));
        return out.UnprocessedKeys?.[table]?.Keys;
      },
      (n) => `BatchGet left ${n} keys of ${table} unprocessed`,
    );
  }
  return found;
}
