/**
 * Auth state every gateway task shares, in the auth table: failed-login counters (the lock holds across
 * gateways, not per process) and revoked tokens (logout). Every item carries `expiresAt` for DynamoDB TTL, and
 * every reader checks it too, because TTL deletes lazily (and dynalite never does).
 */
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { epochSeconds, ifConditionHolds, type Db } from "./db";

const expiry = (atMs: number): number => Math.ceil(atMs / 1000);

// ---------------------------------------------------------------------------------------------- failed logins

export interface LoginThrottleOptions {
  /** Failures allowed per key inside the window before logins are refused. */
  readonly maxFailures: number;
  readonly windowMs: number;
  /** How long a key stays locked after reaching maxFailures. */
  readonly lockMs: number;
}

interface LoginAttemptsItem {
  readonly authKey: string;
  readonly failures: number;
  /** Epoch ms of the window's first failure. */
  readonly windowStart: number;
  /** Epoch ms; absent or past means not locked. */
  readonly lockedUntil?: number;
  readonly expiresAt: number;
}

export const loginKey = (kind: "user" | "addr", value: string): string => `login:${kind}:${value}`;

/** The live counter for `authKey`, or undefined when there is none (or it expired and TTL has not run yet). */
async function getAttempts(db: Db<"auth">, authKey: string, now: number): Promise<LoginAttemptsItem | undefined> {
  const out = await db.ddb.send(new GetCommand({ TableName: db.tables.auth, Key: { authKey }, ConsistentRead: true }));
  const item = out.Item as LoginAttemptsItem | undefined;
  return item && item.expiresAt > epochSeconds(now) ? item : undefined;
}

/** Milliseconds until `authKey` may try again (0 when allowed), and whether it has a failure record at all. */
export async function loginRetryAfter(
  db: Db<"auth">,
  authKey: string,
  now: number,
): Promise<{ waitMs: number; hasFailures: boolean }> {
  const item = await getAttempts(db, authKey, now);
  const lockedUntil = item?.lockedUntil ?? 0;
  return { waitMs: lockedUntil > now ? lockedUntil - now : 0, hasFailures: item !== undefined };
}

/**
 * Counts one failed login for `authKey`: atomically within the current window (ADD), or starting a new window
 * when the stored one has passed. Reaching maxFailures locks the key for lockMs. Conditional writes make
 * concurrent failures on different gateways all count.
 */
export async function recordLoginFailure(
  db: Db<"auth">,
  authKey: string,
  now: number,
  opts: LoginThrottleOptions,
): Promise<void> {
  const cutoff = now - opts.windowMs;
  for (let attempt = 0; attempt < 3; attempt++) {
    let failures: number;
    let windowStart: number;
    const counted = await ifConditionHolds(
      db.ddb.send(
        new UpdateCommand({
          TableName: db.tables.auth,
          Key: { authKey },
          UpdateExpression:
            "SET windowStart = if_not_exists(windowStart, :now), expiresAt = if_not_exists(expiresAt, :exp) ADD failures :one",
          ConditionExpression: "attribute_not_exists(authKey) OR windowStart > :cutoff",
          ExpressionAttributeValues: { ":one": 1, ":now": now, ":exp": expiry(now + opts.windowMs), ":cutoff": cutoff },
          ReturnValues: "ALL_NEW",
        }),
      ),
    );
    if (counted) {
      const item = counted.Attributes as LoginAttemptsItem;
      failures = item.failures;
      windowStart = item.windowStart;
    } else {
      // The stored window has passed: start a new one, unless another gateway just did (then count in it) or
      // the key is still locked (a login raced the lock; it is refused anyway).
      const restarted = await ifConditionHolds(
        db.ddb.send(
          new PutCommand({
            TableName: db.tables.auth,
            Item: { authKey, failures: 1, windowStart: now, expiresAt: expiry(now + opts.windowMs) },
            ConditionExpression:
              "attribute_not_exists(authKey) OR (windowStart <= :cutoff AND (attribute_not_exists(lockedUntil) OR lockedUntil <= :now))",
            ExpressionAttributeValues: { ":cutoff": cutoff, ":now": now },
          }),
        ),
      );
      if (!restarted) continue;
      failures = 1;
      windowStart = now;
    }
    if (failures >= opts.maxFailures) {
      const lockedUntil = now + opts.lockMs;
      await db.ddb.send(
        new UpdateCommand({
          TableName: db.tables.auth,
          Key: { authKey },
          UpdateExpression: "SET lockedUntil = :until, expiresAt = :exp",
          ConditionExpression: "attribute_exists(authKey)",
          ExpressionAttributeValues: {
            ":until": lockedUntil,
            ":exp": expiry(Math.max(windowStart + opts.windowMs, lockedUntil)),
          },
        }),
      );
    }
    return;
  }
}

/** A successful login forgets the key's failures. */
export async function clearLoginFailures(db: Db<"auth">, authKey: string): Promise<void> {
  await db.ddb.send(new DeleteCommand({ TableName: db.tables.auth, Key: { authKey } }));
}

// --------------------------------------------------------------------------------------------- revoked tokens

const revokedKey = (tokenId: string): string => `revoked:${tokenId}`;

/** Revokes a token until its own expiry (epoch seconds); the item expires with it. Idempotent. */
export async function revokeToken(db: Db<"auth">, tokenId: string, tokenExpiresAt: number): Promise<void> {
  await db.ddb.send(
    new PutCommand({
      TableName: db.tables.auth,
      Item: { authKey: revokedKey(tokenId), expiresAt: tokenExpiresAt },
    }),
  );
}

/** Strongly consistent: a logout on one gateway is seen by every gateway's next check. */
export async function isTokenRevoked(db: Db<"auth">, tokenId: string, now: number): Promise<boolean> {
  const out = await db.ddb.send(
    new GetCommand({ TableName: db.tables.auth, Key: { authKey: revokedKey(tokenId) }, ConsistentRead: true }),
  );
  const item = out.Item as { expiresAt: number } | undefined;
  return item !== undefined && item.expiresAt >= epochSeconds(now);
}
