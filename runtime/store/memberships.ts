import { DeleteCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { ifConditionHolds, type Db } from "./db";
import { queryAll } from "./paging";

/**
 * Sending implies having read: the conversation item holds, per member, the highest seq they stored an entry at
 * (written with the persister's summary update, so it costs no write of its own). A member's read position is
 * the later of that and the `lastReadSeq` their `read` frames moved.
 */
export const sentSeqAttribute = (userId: string): `sent#${string}` => `sent#${userId}`;
export interface SentSeqs {
  readonly [attribute: `sent#${string}`]: number | undefined;
}

/** `userId`'s read position in the conversation `sent` is the item of. */
export const readPositionOf = (m: Pick<MembershipItem, "lastReadSeq"> | undefined, sent: SentSeqs, userId: string) =>
  Math.max(m?.lastReadSeq ?? 0, sent[sentSeqAttribute(userId)] ?? 0);

export interface MembershipItem {
  readonly userId: string;
  readonly conversationId: string;
  readonly joinedAt: number;
  /** Highest seq the user has read; drives unread counts and "seen by" receipts. */
  readonly lastReadSeq: number;
}

export async function putMembershipIfAbsent(
  db: Db<"memberships">,
  m: Omit<MembershipItem, "lastReadSeq"> & { lastReadSeq?: number },
): Promise<void> {
  await ifConditionHolds(
    db.ddb.send(
      new PutCommand({
        TableName: db.tables.memberships,
        Item: { lastReadSeq: 0, ...m },
        // Never reset an existing reader's lastReadSeq.
        ConditionExpression: "attribute_not_exists(userId)",
      }),
    ),
  );
}

export async function listMemberships(db: Db<"memberships">, userId: string): Promise<MembershipItem[]> {
  return queryAll<MembershipItem>(db.ddb, {
    TableName: db.tables.memberships,
    KeyConditionExpression: "userId = :u",
    ExpressionAttributeValues: { ":u": userId },
  });
}

/** Advances lastReadSeq; returns false when it was already at or past `seq` (or not a member). */
export async function advanceLastRead(
  db: Db<"memberships">,
  userId: string,
  conversationId: string,
  seq: number,
): Promise<boolean> {
  const update = db.ddb.send(
    new UpdateCommand({
      TableName: db.tables.memberships,
      Key: { userId, conversationId },
      UpdateExpression: "SET lastReadSeq = :seq",
      ConditionExpression: "attribute_exists(userId) AND lastReadSeq < :seq",
      ExpressionAttributeValues: { ":seq": seq },
    }),
  );
  return (await ifConditionHolds(update)) !== undefined;
}

/** A removed member's row goes: the conversation leaves their chat list. */
export async function deleteMembership(db: Db<"memberships">, userId: string, conversationId: string): Promise<void> {
  await db.ddb.send(new DeleteCommand({ TableName: db.tables.memberships, Key: { userId, conversationId } }));
}
