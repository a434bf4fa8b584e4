import { GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { tables, USERNAME_MIN, userIdSchema } from "../contracts";
import { ifConditionHolds, type Db } from "./db";
import { queryItems } from "./paging";
import { putUserNames, searchUserNames, type PublicUser } from "./user-names";

export interface UserItem {
  /** The normalised username. */
  readonly userId: string;
  readonly displayName: string;
  /** scrypt parameters and output, `scrypt$N$r$p$salt$hash` (base64url); never leaves the gateway. */
  readonly passwordHash: string;
  readonly createdAt: number;
  /** Prefix-search partition: the first character of userId (see the byDirectory index). */
  readonly directory: string;
  /** Epoch ms the user was last seen online (written when their last connection goes away). */
  readonly lastSeen?: number;
}

export type { PublicUser };

export const directoryOf = (userId: string): string => userId.slice(0, 1);

export class UserExistsError extends Error {
  constructor(userId: string) {
    super(`user ${userId} already exists`);
    this.name = "UserExistsError";
  }
}

/**
 * The account, then its display-name search items (one BatchWrite). Not one transaction: that would double the
 * cost of every sign-up write, and an account whose name items failed is still found by its username.
 */
export async function createUser(
  db: Db<"users" | "userNames">,
  user: Omit<UserItem, "directory" | "lastSeen">,
): Promise<UserItem> {
  const item: UserItem = { ...user, directory: directoryOf(user.userId) };
  const put = db.ddb.send(
    new PutCommand({ TableName: db.tables.users, Item: item, ConditionExpression: "attribute_not_exists(userId)" }),
  );
  if (!(await ifConditionHolds(put))) throw new UserExistsError(user.userId);
  await putUserNames(db, { userId: item.userId, displayName: item.displayName });
  return item;
}

export async function getUser(db: Db<"users">, userId: string): Promise<UserItem | undefined> {
  const out = await db.ddb.send(new GetCommand({ TableName: db.tables.users, Key: { userId } }));
  return out.Item as UserItem | undefined;
}

/** Whether `prefix` can begin a username: padded to the shortest length, it passes the one username rule. */
const canBeginUsername = (prefix: string): boolean =>
  prefix.length > 0 && userIdSchema.safeParse(prefix.padEnd(USERNAME_MIN, "_")).success;

/**
 * Users whose username starts with `query` (ascending), then those with a display-name word starting with it (in
 * name order, see user-names.ts), each listed once, at most `limit`: three Queries, no scans. Username matches
 * come first so that looking a user up by id (the web client's name resolver) is not crowded out by namesakes.
 */
export async function searchUsers(db: Db<"users" | "userNames">, query: string, limit: number): Promise<PublicUser[]> {
  const prefix = query.trim().toLowerCase();
  const [byId, byName] = await Promise.all([
    canBeginUsername(prefix) ? searchUserIds(db, prefix, limit) : [],
    searchUserNames(db, query, limit),
  ]);
  const seen = new Set(byId.map((u) => u.userId));
  return [...byId, ...byName.filter((u) => !seen.has(u.userId))].slice(0, limit);
}

/** Users whose id starts with `prefix` (non-empty), ascending, through the byDirectory index — no scans. */
async function searchUserIds(db: Db<"users">, prefix: string, limit: number): Promise<PublicUser[]> {
  const { items } = await queryItems<UserItem>(
    db.ddb,
    {
      TableName: db.tables.users,
      IndexName: tables.users.indexes[0].name,
      KeyConditionExpression: "directory = :d AND begins_with(userId, :p)",
      ExpressionAttributeValues: { ":d": directoryOf(prefix), ":p": prefix },
    },
    limit,
  );
  return items.map((u) => ({ userId: u.userId, displayName: u.displayName }));
}

export async function recordLastSeen(db: Db<"users">, userId: string, lastSeen: number): Promise<void> {
  await ifConditionHolds(
    db.ddb.send(
      new UpdateCommand({
        TableName: db.tables.users,
        Key: { userId },
        UpdateExpression: "SET lastSeen = :t",
        ConditionExpression: "attribute_exists(userId) AND (attribute_not_exists(lastSeen) OR lastSeen < :t)",
        ExpressionAttributeValues: { ":t": lastSeen },
      }),
    ),
  );
}
