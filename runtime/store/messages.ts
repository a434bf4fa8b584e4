import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import type { StoredMessage } from "../contracts";
import { ifConditionHolds, type Db } from "./db";
import { queryItems } from "./paging";

/** Writes `message` into its seq slot; false when the slot is already taken. */
export async function putMessageIfSlotFree(db: Db<"messages">, message: StoredMessage): Promise<boolean> {
  const put = db.ddb.send(
    new PutCommand({ TableName: db.tables.messages, Item: message, ConditionExpression: "attribute_not_exists(seq)" }),
  );
  return (await ifConditionHolds(put)) !== undefined;
}

/** The highest-seq message, read consistently: the source of truth for the next seq. */
export async function latestMessage(db: Db<"messages">, conversationId: string): Promise<StoredMessage | undefined> {
  const { items } = await queryItems<StoredMessage>(
    db.ddb,
    {
      TableName: db.tables.messages,
      KeyConditionExpression: "conversationId = :c",
      ExpressionAttributeValues: { ":c": conversationId },
      ScanIndexForward: false,
      ConsistentRead: true,
    },
    1,
  );
  return items[0];
}

export interface PageQuery {
  /** Messages with seq < before (older page), newest first internally. */
  readonly before?: number;
  /** Messages with seq > after (catch-up page). */
  readonly after?: number;
  readonly limit?: number;
  /** Strongly consistent read: a gap fill must see a message the persister just stored. */
  readonly consistent?: boolean;
}

export interface Page {
  /** Ascending by seq. */
  readonly messages: StoredMessage[];
  /**
   * More messages exist beyond this page in the direction asked. A page is always full (`limit` messages) unless
   * it is the last: a Query page DynamoDB ends early (1 MB of data) is continued, never reported as the end.
   */
  readonly hasMore: boolean;
}

/**
 * One page of history. `after` reads forward (sync after reconnect); otherwise reads backward from `before`
 * (or from the newest message). Either way the page comes back ascending.
 */
/**
 * The most messages one page read returns. The HTTP API's own limit is smaller (MAX_PAGE, checked by its schema);
 * the gateway's sync reads this many per page (DynamoDB still cuts each Query at 1 MB; queryItems goes on).
 */
export const READ_PAGE_MAX = 1_000;

export async function pageMessages(db: Db<"messages">, conversationId: string, q: PageQuery = {}): Promise<Page> {
  const limit = Math.max(1, Math.min(q.limit ?? 50, READ_PAGE_MAX));
  const forward = q.after !== undefined;
  const values: Record<string, unknown> = { ":c": conversationId };
  let range = "";
  if (forward) {
    range = " AND seq > :after";
    values[":after"] = q.after;
  } else if (q.before !== undefined) {
    range = " AND seq < :before";
    values[":before"] = q.before;
  }
  // One more than the page, across as many Query calls as DynamoDB needs: the extra item says whether there is more.
  const { items } = await queryItems<StoredMessage>(
    db.ddb,
    {
      TableName: db.tables.messages,
      KeyConditionExpression: `conversationId = :c${range}`,
      ExpressionAttributeValues: values,
      ScanIndexForward: forward,
      ConsistentRead: q.consistent === true,
    },
    limit + 1,
  );
  const hasMore = items.length > limit;
  const page = items.slice(0, limit);
  return { messages: forward ? page : page.reverse(), hasMore };
}

export async function getMessage(
  db: Db<"messages">,
  conversationId: string,
  seq: number,
): Promise<StoredMessage | undefined> {
  const out = await db.ddb.send(
    new GetCommand({ TableName: db.tables.messages, Key: { conversationId, seq }, ConsistentRead: true }),
  );
  return out.Item as StoredMessage | undefined;
}
