/**
 * People search by display name, through the userNames table (runtime/contracts/tables.ts) — Query only, never a
 * scan. A name is matched by word prefix after normalising both sides the same way: compatibility decomposition,
 * combining marks dropped, lower case, and anything that is not a letter or digit treated as a word break, so
 * "Zoë-Builder" is stored as "zoe builder" and found by "zoë", "zoe" or "build".
 *
 * Per user: one `name` item holding the whole normalised name (the browse partition, in name order) and one
 * `word:<first character>` item per further word holding the name from that word on, up to MAX_WORD_ITEMS of
 * them — so sign-up writes 1 + min(words − 1, MAX_WORD_ITEMS) items in one BatchWrite.
 */
import { batchPutAll } from "./batch";
import type { Db } from "./db";
import { queryItems } from "./paging";

/** Words after the first that get an item of their own: "Anna Maria de la Cruz" is found by anna, maria, de. */
export const MAX_WORD_ITEMS = 2;
/** The browse partition: every user's whole name, sorted. */
const NAME_BUCKET = "name";
/** Below every character a normalised name keeps (letters, digits, spaces), so "bob" sorts before "bob builder". */
const SEPARATOR = "\u0001";
/** Sort keys stay well under DynamoDB's 1,024 bytes whatever NFKD expands a 64-character name to. */
const MAX_KEY_NAME_CHARS = 200;

/** A user as search shows them (users.ts re-exports it as the users table's public view). */
export interface PublicUser {
  readonly userId: string;
  readonly displayName: string;
}

export interface UserNameItem {
  readonly nameBucket: string;
  readonly nameKey: string;
  readonly userId: string;
  readonly displayName: string;
}

/** The words of a name or query as the index stores them (see the module comment). */
export function nameWords(text: string): string[] {
  return text
    .normalize("NFKD")
    .replace(/\p{M}+/gu, "")
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
}

const wordBucket = (word: string): string => `word:${[...word][0]}`;

/** The items that make `user` findable; a name with no letters or digits is filed under the user id. */
export function userNameItems(user: PublicUser): UserNameItem[] {
  const words = nameWords(user.displayName);
  const from = (i: number) => words.slice(i).join(" ").slice(0, MAX_KEY_NAME_CHARS) + SEPARATOR + user.userId;
  const item = (nameBucket: string, nameKey: string): UserNameItem => ({ nameBucket, nameKey, ...user });
  if (!words.length) return [item(NAME_BUCKET, user.userId + SEPARATOR + user.userId)];
  return [
    item(NAME_BUCKET, from(0)),
    ...words.slice(1, 1 + MAX_WORD_ITEMS).map((w, i) => item(wordBucket(w), from(i + 1))),
  ];
}

export async function putUserNames(db: Db<"userNames">, user: PublicUser): Promise<void> {
  await batchPutAll(db.ddb, db.tables.userNames, userNameItems(user));
}

const publicOf = (items: readonly UserNameItem[]): PublicUser[] =>
  items.map((i) => ({ userId: i.userId, displayName: i.displayName }));

/**
 * Users with a display-name word starting with `query`'s words, in name order, at most `limit` — two Queries
 * (the first word, further words), each bounded by `limit`. A user matched twice is listed once.
 */
export async function searchUserNames(db: Db<"userNames">, query: string, limit: number): Promise<PublicUser[]> {
  const words = nameWords(query);
  if (!words.length) return [];
  const prefix = words.join(" ");
  const inBucket = (nameBucket: string) =>
    queryItems<UserNameItem>(
      db.ddb,
      {
        TableName: db.tables.userNames,
        KeyConditionExpression: "nameBucket = :b AND begins_with(nameKey, :p)",
        ExpressionAttributeValues: { ":b": nameBucket, ":p": prefix },
      },
      limit,
    );
  const pages = await Promise.all([inBucket(NAME_BUCKET), inBucket(wordBucket(words[0]!))]);
  const byUser = new Map<string, UserNameItem>();
  for (const i of pages.flatMap((p) => p.items)) if (!byUser.has(i.userId)) byUser.set(i.userId, i);
  const order = (i: UserNameItem) => nameWords(i.displayName).join(" ") + SEPARATOR + i.userId;
  const sorted = [...byUser.values()].map((i) => [order(i), i] as const).sort(([a], [b]) => (a < b ? -1 : 1));
  return publicOf(sorted.slice(0, limit).map(([, i]) => i));
}

export interface BrowsePage {
  readonly users: PublicUser[];
  /** Where the next page starts (pass back as `after`); absent on the last page. */
  readonly next?: string;
}

/** Everyone in display-name order, `limit` at a time after the `after` key of the previous page: one Query. */
export async function browseUserNames(db: Db<"userNames">, limit: number, after?: string): Promise<BrowsePage> {
  const { items } = await queryItems<UserNameItem>(
    db.ddb,
    {
      TableName: db.tables.userNames,
      KeyConditionExpression: after === undefined ? "nameBucket = :b" : "nameBucket = :b AND nameKey > :a",
      ExpressionAttributeValues: { ":b": NAME_BUCKET, ...(after === undefined ? {} : { ":a": after }) },
    },
    // One more than asked for: whether there is a next page is known without an empty last read.
    limit + 1,
  );
  const page = items.slice(0, limit);
  return { users: publicOf(page), ...(items.length > limit ? { next: page[page.length - 1]!.nameKey } : {}) };
}
