import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { TableNames } from "../contracts";

/** What every store function takes: the document client and the physical table names it may use. */
export interface Db<K extends keyof TableNames = keyof TableNames> {
  readonly ddb: DynamoDBDocumentClient;
  readonly tables: Pick<TableNames, K>;
}

export function isConditionalCheckFailed(err: unknown): boolean {
  return (err as { name?: string })?.name === "ConditionalCheckFailedException";
}

/** Epoch seconds, the unit DynamoDB TTL attributes use. */
export const epochSeconds = (ms: number): number => Math.floor(ms / 1000);
