import { GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { StoredMessage } from "../contracts";
import { previewOf } from "../contracts/api";
import { batchGetAll } from "./batch";
import { ifConditionHolds, reviseOnce, type Db } from "./db";
import {
  putMembershipIfAbsent,
  readPositionOf,
  sentSeqAttribute,
  type MembershipItem,
  type SentSeqs,
} from "./memberships";

export type ConversationKind = "direct" | "group";

export interface ConversationItem extends SentSeqs {
  readonly conversationId: string;
  readonly kind: ConversationKind;
  readonly title?: string;
  readonly memberIds: string[];
  readonly createdBy: string;
  readonly createdAt: number;
  /** Highest stored seq; 0 before the first message. Kept by the persister, never decreases. */
  readonly lastSeq: number;
  /** The newest message's (not an event's): what the chat list shows. */
  readonly lastMessageSeq?: number;
  readonly lastMessageAt?: number;
  readonly lastPreview?: string;
  readonly lastSenderId?: string;
  /** Seq of the last membership or title entry applied to this item (so a retry does not apply it twice). */
  readonly rev?: number;
}

/** The chat list's preview of a deleted newest message. */
export const DELETED_PREVIEW = "Message deleted";

export async function getConversation(
  db: Db<"conversations">,
  conversationId: string,
  consistent = false,
): Promise<ConversationItem | undefined> {
  const out = await db.ddb.send(
    new GetCommand({ TableName: db.tables.conversations, Key: { conversationId }, ConsistentRead: consistent }),
  );
  return out.Item as ConversationItem | undefined;
}

export async function getConversations(
  db: Db<"conversations">,
  ids: readonly string[],
  consistent = false,
): Promise<ConversationItem[]> {
  return batchGetAll<ConversationItem>(
    db.ddb,
    db.tables.conversations,
    ids.map((conversationId) => ({ conversationId })),
    consistent,
  );
}

/**
 * Creates the conversation unless it exists, then makes sure every member has a membership row.
 * Without transactions the two steps can be split by a crash; repeating the call repairs it, which is why
 * creating a direct chat is idempotent by design.
 */
export async function createConversation(
  db: Db<"conversations" | "memberships">,
  input: Omit<ConversationItem, "lastSeq">,
): Promise<{ conversation: ConversationItem; created: boolean }> {
  const item: ConversationItem = { ...input, lastSeq: 0 };
  const put = db.ddb.send(
    new PutCommand({
      TableName: db.tables.conversations,
      Item: item,
      ConditionExpression: "attribute_not_exists(conversationId)",
    }),
  );
  const created = (await ifConditionHolds(put)) !== undefined;
  const conversation = created ? item : (await getConversation(db, input.conversationId, true))!;
  await Promise.all(
    conversation.memberIds.map((userId) =>
      putMembershipIfAbsent(db, {
        userId,
        conversationId: conversation.conversationId,
        joinedAt: conversation.createdAt,
      }),
    ),
  );
  return { conversation, created };
}

/** What one batch moves a conversation's summary to. */
export interface SummaryUpdate {
  readonly conversationId: string;
  /** The newest stored entry's seq. */
  readonly lastSeq: number;
  /** The newest message stored in the batch, if any. */
  readonly message?: StoredMessage;
  /** The preview's new text when the batch edited or deleted the newest message. */
  readonly preview?: string;
  /** Per sender in the batch, the highest seq they stored an entry at (their implied read position). */
  readonly senders?: Readonly<Record<string, number>>;
}

/**
 * Moves the summary forward to `lastSeq`, unless it already shows a later one (retries and redeliveries arrive
 * out of order), and each sender's implied read position with it: one write per conversation per batch.
 */
export async function recordSummary(db: Db<"conversations">, u: SummaryUpdate): Promise<void> {
  const sets = ["lastSeq = :seq"];
  const values: Record<string, unknown> = { ":seq": u.lastSeq };
  if (u.message) {
    sets.push("lastMessageSeq = :mseq", "lastMessageAt = :at", "lastSenderId = :sender");
    Object.assign(values, { ":mseq": u.message.seq, ":at": u.message.storedAt, ":sender": u.message.senderId });
  }
  const preview = u.preview ?? (u.message ? previewOf(u.message.body) : undefined);
  if (preview !== undefined) {
    sets.push("lastPreview = :preview");
    values[":preview"] = preview;
  }
  const names: Record<string, string> = {};
  Object.entries(u.senders ?? {}).forEach(([userId, seq], i) => {
    sets.push(`#sent${i} = :sent${i}`);
    names[`#sent${i}`] = sentSeqAttribute(userId);
    values[`:sent${i}`] = seq;
  });
  await ifConditionHolds(
    db.ddb.send(
      new UpdateCommand({
        TableName: db.tables.conversations,
        Key: { conversationId: u.conversationId },
        UpdateExpression: `SET ${sets.join(", ")}`,
        ConditionExpression: "attribute_exists(conversationId) AND lastSeq < :seq",
        ExpressionAttributeValues: values,
        ...(Object.keys(names).length ? { ExpressionAttributeNames: names } : {}),
      }),
    ),
  );
}

/** Applies a membership or title entry (seq `rev`) to the conversation item, once (db.ts#reviseOnce). */
export async function reviseConversation(
  db: Db<"conversations">,
  conversationId: string,
  rev: number,
  change: { memberIds?: readonly string[]; title?: string },
): Promise<boolean> {
  return reviseOnce(db.ddb, db.tables.conversations, { conversationId }, rev, { set: change });
}

/**
 * Each member's persisted read position in a conversation (memberships.ts#readPositionOf: the later of their
 * row's `lastReadSeq` and their last own entry on the conversation item; members without a row read as 0). The
 * members' BatchGet and the conversation's read run side by side.
 */
export async function readPositions(
  db: Db<"memberships" | "conversations">,
  conversationId: string,
  memberIds: readonly string[],
): Promise<Record<string, number>> {
  const [rows, item] = await Promise.all([
    batchGetAll<MembershipItem>(
      db.ddb,
      db.tables.memberships,
      memberIds.map((userId) => ({ userId, conversationId })),
    ),
    getConversation(db, conversationId),
  ]);
  const byUser = new Map(rows.map((r) => [r.userId, r]));
  return Object.fromEntries(memberIds.map((m) => [m, readPositionOf(byUser.get(m), item ?? {}, m)]));
}
