/**
 * The one Query loop every store read goes through. DynamoDB ends a Query page at `Limit` items *or* at 1 MB of
 * data (UTF-8 bytes), whichever comes first, and says so with `LastEvaluatedKey`; a page that is cut short is not
 * the end of the results. dynalite never cuts at 1 MB, so code that decides "no more" from the item count alone
 * passes locally and stops early in AWS (a conversation of long multi-byte messages). So: a caller asks for the
 * number of items it wants, and this loop keeps querying from `LastEvaluatedKey` until it has them or DynamoDB
 * reports no more. Every page a caller returns is therefore full unless the results ended.
 */
import { QueryCommand, type QueryCommandInput, type QueryCommandOutput } from "@aws-sdk/lib-dynamodb";
import { type DocumentClient } from "../aws/document-client";

export type Key = Record<string, unknown>;

export interface QueriedItems<T> {
  readonly items: T[];
  /** Where the next read would start: set when DynamoDB had more items than were taken. */
  readonly lastEvaluatedKey?: Key;
}

/**
 * Up to `max` items of the Query (all of them when `max` is undefined), following `LastEvaluatedKey` across
 * pages that DynamoDB ended early. `input.Limit` and `input.ExclusiveStartKey` are managed here.
 */
export async function queryItems<T>(
  ddb: DocumentClient,
  input: Omit<QueryCommandInput, "Limit" | "ExclusiveStartKey">,
  max?: number,
): Promise<QueriedItems<T>> {
  const items: T[] = [];
  if (max !== undefined && max <= 0) return { items };
  let start: Key | undefined;
  do {
    const want = max === undefined ? undefined : max - items.length;
    const out: QueryCommandOutput = await ddb.send(
      new QueryCommand({ ...input, ...(want === undefined ? {} : { Limit: want }), ExclusiveStartKey: start }),
    );
    const page = (out.Items ?? []) as T[];
    items.push(...(want === undefined ? page : page.slice(0, want)));
    start = out.LastEvaluatedKey;
  } while (start && (max === undefined || items.length < max));
  return { items, ...(start ? { lastEvaluatedKey: start } : {}) };
}

/** Every item of the Query, however many pages DynamoDB splits it into. */
export async function queryAll<T>(
  ddb: DocumentClient,
  input: Omit<QueryCommandInput, "Limit" | "ExclusiveStartKey">,
): Promise<T[]> {
  return (await queryItems<T>(ddb, input)).items;
}
