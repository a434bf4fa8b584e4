import { UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { TableNames } from "../contracts";
import { type DocumentClient } from "../aws/document-client";

/** What every store function takes: the document client and the physical table names it may use. */
export interface Db<K extends keyof TableNames = keyof TableNames> {
  readonly ddb: DocumentClient;
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

/** What one log entry changes on an item: attributes set, attributes removed, and its seq appended to a list. */
export interface Revision {
  readonly set: Readonly<Record<string, unknown>>;
  readonly remove?: readonly string[];
  /** An attribute holding a list the entry's seq is appended to (a message's `edits`). */
  readonly appendRev?: string;
}

/**
 * Applies the entry with seq `rev` to an existing item, once: the write is conditional on the item's `rev` being
 * older, and sets it to `rev`. False when the item is missing or already at `rev` or later (a retry of the same
 * entry). Messages (edits, deletes, reactions) and conversations (membership, title) both change this way.
 */
export async function reviseOnce(
  ddb: DocumentClient,
  table: string,
  key: Readonly<Record<string, unknown>>,
  rev: number,
  change: Revision,
): Promise<boolean> {
  const names: Record<string, string> = { "#rev": "rev", "#key": Object.keys(key)[0]! };
  const values: Record<string, unknown> = { ":rev": rev };
  const sets = ["#rev = :rev"];
  Object.entries(change.set).forEach(([k, v], i) => {
    names[`#s${i}`] = k;
    values[`:s${i}`] = v;
    sets.push(`#s${i} = :s${i}`);
  });
  if (change.appendRev) {
    names["#list"] = change.appendRev;
    Object.assign(values, { ":one": [rev], ":none": [] });
    sets.push("#list = list_append(if_not_exists(#list, :none), :one)");
  }
  const removes = (change.remove ?? []).map((k, i) => {
    names[`#r${i}`] = k;
    return `#r${i}`;
  });
  const update = ddb.send(
    new UpdateCommand({
      TableName: table,
      Key: key,
      UpdateExpression: `SET ${sets.join(", ")}${removes.length ? ` REMOVE ${removes.join(", ")}` : ""}`,
      ConditionExpression: "attribute_exists(#key) AND (attribute_not_exists(#rev) OR #rev < :rev)",
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    }),
  );
  return (await ifConditionHolds(update)) !== undefined;
}
