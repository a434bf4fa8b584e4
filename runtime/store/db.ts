import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { TableNames } from "../contracts";

/** What every store function takes: the document client and the physical table names it may use. */
export interface Db<K extends keyof TableNames = keyof TableNames> {
  readonly ddb: DynamoDBDocumentClient;
  readonly tables: Pick<TableNames, K>;
}

function isConditionalCheckFailed(err: unknown): boolean {
  return (err as { name?: string })?.name === "ConditionalCheckFailedException";
}

/** Epoch seconds, the unit DynamoDB TTL attributes use. */
export const epochSeconds = (ms: number): number => Math.floor(ms / 1000);

/**
 * Awaits a conditional write. Resolves to its output, or to undefined when DynamoDB refused the write because its
 * condition did not hold; any other error is thrown. Every conditional write in the store goes through here.
 */
export async function ifConditionHolds<T>(write: Promise<T>): Promise<T | undefined> {
  try {
    return await write;
  } catch (err) {
    if (isConditionalCheckFailed(err)) return undefined;
    throw err;
  }
}
