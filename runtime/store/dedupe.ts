import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { DEDUPE_TTL_SECONDS } from "../contracts";
import { epochSeconds, ifConditionHolds, type Db } from "./db";

interface DedupeItem {
  readonly dedupeKey: string;
  readonly seq: number;
  readonly expiresAt: number;
}

export interface DedupeRecord {
  readonly seq: number;
}

/** What is already stored for this client message, if anything. Expired records count as absent (TTL lags). */
export async function findDedupe(db: Db<"dedupe">, dedupeKey: string, now: number): Promise<DedupeRecord | undefined> {
  const out = await db.ddb.send(
    new GetCommand({ TableName: db.tables.dedupe, Key: { dedupeKey }, ConsistentRead: true }),
  );
  const item = out.Item as DedupeItem | undefined;
  return item && item.expiresAt > epochSeconds(now) ? { seq: item.seq } : undefined;
}

/**
 * Records that `dedupeKey` is stored at `seq`. If another attempt recorded it first, returns that seq so the
 * caller can undo its own copy.
 */
export async function claimDedupe(
  db: Db<"dedupe">,
  dedupeKey: string,
  seq: number,
  now: number,
): Promise<{ claimed: true } | { claimed: false; seq: number }> {
  const put = db.ddb.send(
    new PutCommand({
      TableName: db.tables.dedupe,
      Item: { dedupeKey, seq, expiresAt: epochSeconds(now) + DEDUPE_TTL_SECONDS } satisfies DedupeItem,
      ConditionExpression: "attribute_not_exists(dedupeKey) OR expiresAt <= :now",
      ExpressionAttributeValues: { ":now": epochSeconds(now) },
    }),
  );
  if (await ifConditionHolds(put)) return { claimed: true };
  const existing = await findDedupe(db, dedupeKey, now);
  if (existing === undefined) throw new Error(`dedupe record ${dedupeKey} vanished during claim`);
  return { claimed: false, seq: existing.seq };
}
