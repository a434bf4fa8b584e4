import { GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { isStoredEvent, type ReplyRef, type StoredEntry, type StoredMessage } from "../contracts";
import { previewOf } from "../contracts/api";
import { batchGetAll } from "./batch";
import { ifConditionHolds, reviseOnce, type Db, type Revision } from "./db";
import { queryItems } from "./paging";

/** Writes `message` (any log entry) into its seq slot; false when the slot is already taken. */
export async function putMessageIfSlotFree(db: Db<"messages">, message: StoredEntry): Promise<boolean> {
  const put = db.ddb.send(
    new PutCommand({ TableName: db.tables.messages, Item: message, ConditionExpression: "attribute_not_exists(seq)" }),
  );
  return (await ifConditionHolds(put)) !== undefined;
}

/** The highest-seq message, read consistently: the source of truth for the next seq. */
export async function latestMessage(db: Db<"messages">, conversationId: string): Promise<StoredEntry | undefined> {
  const { items } = await queryItems<StoredEntry>(
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
  /** Ascending by seq: messages in their current state, and the other entries of the log. */
  readonly messages: StoredEntry[];
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
  const { items } = await queryItems<StoredEntry>(
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
  const messages = await withReplyPreviews(db, conversationId, forward ? page : page.reverse());
  return { messages, hasMore };
}

export async function getMessage(
  db: Db<"messages">,
  conversationId: string,
  seq: number,
): Promise<StoredEntry | undefined> {
  const out = await db.ddb.send(
    new GetCommand({ TableName: db.tables.messages, Key: { conversationId, seq }, ConsistentRead: true }),
  );
  return out.Item as StoredEntry | undefined;
}

/** What a reply shows of the message it quotes, as that message is now. */
export function quoteOf(ref: Pick<ReplyRef, "seq" | "senderId">, quoted: StoredEntry | undefined): ReplyRef {
  const m = quoted && !isStoredEvent(quoted) ? quoted : undefined;
  if (!m || m.deleted) return { seq: ref.seq, senderId: ref.senderId, deleted: true };
  return { seq: ref.seq, senderId: ref.senderId, preview: previewOf(m.body) };
}

/**
 * Replies carry the quoted message's preview as it is when read (the table stores only its seq and sender, so a
 * delete erases the quote too). Quoted messages outside `entries` are read in one BatchGet.
 */
export async function withReplyPreviews(
  db: Db<"messages">,
  conversationId: string,
  entries: StoredEntry[],
): Promise<StoredEntry[]> {
  const bySeq = new Map(entries.map((e) => [e.seq, e]));
  const quoted = (e: StoredEntry) => (!isStoredEvent(e) && e.replyTo ? e.replyTo.seq : undefined);
  const missing = [...new Set(entries.map(quoted).filter((q): q is number => q !== undefined && !bySeq.has(q)))];
  if (missing.length) {
    const found = await batchGetAll<StoredEntry>(
      db.ddb,
      db.tables.messages,
      missing.map((seq) => ({ conversationId, seq })),
    );
    for (const f of found) bySeq.set(f.seq, f);
  }
  return entries.map((e) => {
    const q = quoted(e);
    if (q === undefined || isStoredEvent(e)) return e;
    return { ...e, replyTo: quoteOf(e.replyTo!, bySeq.get(q)) };
  });
}

/** Applies an entry (seq `rev`) to the message at `seq`, once (db.ts#reviseOnce). */
export async function reviseMessage(
  db: Db<"messages">,
  conversationId: string,
  seq: number,
  rev: number,
  change: Revision,
): Promise<boolean> {
  return reviseOnce(db.ddb, db.tables.messages, { conversationId, seq }, rev, change);
}

/** Erases the bodies of a deleted message's stored edits (idempotent). */
export async function eraseEditBodies(
  db: Db<"messages">,
  conversationId: string,
  seqs: readonly number[],
): Promise<void> {
  await Promise.all(
    seqs.map((seq) =>
      ifConditionHolds(
        db.ddb.send(
          new UpdateCommand({
            TableName: db.tables.messages,
            Key: { conversationId, seq },
            UpdateExpression: "SET body = :empty",
            ConditionExpression: "attribute_exists(seq)",
            ExpressionAttributeValues: { ":empty": "" },
          }),
        ),
      ),
    ),
  );
}

export type { StoredMessage };
