import { GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { DEDUPE_TTL_SECONDS } from "../contracts";
import { epochSeconds, ifConditionHolds, type Db } from "./db";

interface DedupeItem {
  readonly dedupeKey: string;
  readonly seq: number;
  readonly expiresAt: number;
}

interface DedupeRecord {
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
 * Claims `dedupeKey` for `seq` (before the message is put there). If it is claimed already (and not expired),
 * answers the seq the claim names.
 */
export async function claimDedupe(
  db: Db<"dedupe">,
  dedupeKey: string,
  seq: number,
  now: number,
): Promise<{ claimed: boolean; seq: number }> {
  const put = db.ddb.send(
    new PutCommand({
      TableName: db.tables.dedupe,
      Item: { dedupeKey, seq, expiresAt: epochSeconds(now) + DEDUPE_TTL_SECONDS } satisfies DedupeItem,
      ConditionExpression: "attribute_not_exists(dedupeKey) OR expiresAt <= :now",
      ExpressionAttributeValues: { ":now": epochSeconds(now) },
    }),
  );
  if (await ifConditionHolds(put)) return { claimed: true, seq };
  return { claimed: false, seq: await claimedSeq(db, dedupeKey, now) };
}

/**
 * Moves a claim from `from` to `to`, unless it no longer names `from` (another attempt moved it): then answers
 * where it points now.
 */
export async function moveDedupe(
  db: Db<"dedupe">,
  dedupeKey: string,
  from: number,
  to: number,
  now: number,
): Promise<{ moved: boolean; seq: number }> {
  const update = db.ddb.send(
    new UpdateCommand({
      TableName: db.tables.dedupe,
      Key: { dedupeKey },
      UpdateExpression: "SET seq = :to, expiresAt = :exp",
      ConditionExpression: "seq = :from",
      ExpressionAttributeValues: { ":to": to, ":from": from, ":exp": epochSeconds(now) + DEDUPE_TTL_SECONDS },
    }),
  );
  if (await ifConditionHolds(update)) return { moved: true, seq: to };
  return { moved: false, seq: await claimedSeq(db, dedupeKey, now) };
}

async function claimedSeq(db: Db<"dedupe">, dedupeKey: string, now: number): Promise<number> {
  const existing = await findDedupe(db, dedupeKey, now);
  if (existing === undefined) throw new Error(`dedupe record ${dedupeKey} vanished during a claim`);
  return existing.seq;
}
