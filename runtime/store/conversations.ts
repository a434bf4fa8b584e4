import { GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { StoredMessage } from "../contracts";
import { previewOf } from "../contracts/api";
import { batchGetAll } from "./batch";
import { ifConditionHolds, type Db } from "./db";
import { putMembershipIfAbsent } from "./memberships";

export type ConversationKind = "direct" | "group";

export interface ConversationItem {
  readonly conversationId: string;
  readonly kind: ConversationKind;
  readonly title?: string;
  readonly memberIds: string[];
  readonly createdBy: string;
  readonly createdAt: number;
  /** Highest stored seq; 0 before the first message. Kept by the persister, never decreases. */
  readonly lastSeq: number;
  readonly lastMessageAt?: number;
  readonly lastPreview?: string;
  readonly lastSenderId?: string;
}

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

/**
 * Moves the summary forward to `message` unless it already shows a later one (retries and redeliveries
 * arrive out of order). Returns the members, which the notification needs.
 */
export async function recordStoredMessage(db: Db<"conversations">, message: StoredMessage): Promise<string[]> {
  const out = await ifConditionHolds(
    db.ddb.send(
      new UpdateCommand({
        TableName: db.tables.conversations,
        Key: { conversationId: message.conversationId },
        UpdateExpression: "SET lastSeq = :seq, lastMessageAt = :at, lastPreview = :preview, lastSenderId = :sender",
        ConditionExpression: "attribute_exists(conversationId) AND lastSeq < :seq",
        ExpressionAttributeValues: {
          ":seq": message.seq,
          ":at": message.storedAt,
          ":preview": previewOf(message.body),
          ":sender": message.senderId,
        },
        ReturnValues: "ALL_NEW",
      }),
    ),
  );
  if (out) return (out.Attributes as ConversationItem).memberIds;
  const existing = await getConversation(db, message.conversationId, true);
  if (!existing) throw new Error(`conversation ${message.conversationId} does not exist`);
  return existing.memberIds;
}
