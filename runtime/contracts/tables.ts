/**
 * DynamoDB tables: the one definition the Pulumi components, the local stack and the store share.
 * A physical table name is `${prefix}-${suffix}`; processes learn it from the env var named here.
 */

export type AttributeType = "S" | "N";

export interface KeyAttribute {
  readonly name: string;
  readonly type: AttributeType;
}

export interface GlobalIndex {
  readonly name: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  /** Attributes projected besides the keys; `undefined` projects ALL. */
  readonly nonKeyAttributes?: readonly string[];
}

export interface TableDefinition {
  readonly suffix: string;
  readonly envVar: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  readonly indexes: readonly GlobalIndex[];
  /** Epoch-seconds attribute DynamoDB TTL deletes on; the code checks it too (expiry lags up to days). */
  readonly ttlAttribute?: string;
}

export const tables = {
  /** One item per account; userId is the normalised, immutable username. */
  users: {
    suffix: "users",
    envVar: "PARLEY_TABLE_USERS",
    partitionKey: { name: "userId", type: "S" },
    indexes: [
      {
        // Prefix search without scans: partition by the first character, begins_with on userId.
        name: "byDirectory",
        partitionKey: { name: "directory", type: "S" },
        sortKey: { name: "userId", type: "S" },
        nonKeyAttributes: ["displayName"],
      },
    ],
  },
  /**
   * People search by display name without a scan: per user, one `name` item (the whole normalised display name,
   * in the single browse partition, so listing everyone by name is one Query per page) and one `word:<c>` item
   * per further word (the name from that word on), so "builder" finds "Bob Builder". A table of its own rather
   * than a GSI on users: the items are keyed by name, not by user, and a base-table write costs one write where
   * a GSI would add a second. Written at sign-up (runtime/store/user-names.ts).
   */
  userNames: {
    suffix: "user-names",
    envVar: "PARLEY_TABLE_USER_NAMES",
    partitionKey: { name: "nameBucket", type: "S" },
    sortKey: { name: "nameKey", type: "S" },
    indexes: [],
  },
  /** One item per conversation: members, title and the summary the persister keeps current. */
  conversations: {
    suffix: "conversations",
    envVar: "PARLEY_TABLE_CONVERSATIONS",
    partitionKey: { name: "conversationId", type: "S" },
    indexes: [],
  },
  /** One item per (user, conversation): the chat list and each reader's lastReadSeq. */
  memberships: {
    suffix: "memberships",
    envVar: "PARLEY_TABLE_MEMBERSHIPS",
    partitionKey: { name: "userId", type: "S" },
    sortKey: { name: "conversationId", type: "S" },
    indexes: [],
  },
  /** Stored messages, ordered by the gap-free per-conversation seq. */
  messages: {
    suffix: "messages",
    envVar: "PARLEY_TABLE_MESSAGES",
    partitionKey: { name: "conversationId", type: "S" },
    sortKey: { name: "seq", type: "N" },
    indexes: [],
  },
  /** (conversationId, senderId, clientMessageId) → seq: exactly-once storage across retries. */
  dedupe: {
    suffix: "dedupe",
    envVar: "PARLEY_TABLE_DEDUPE",
    partitionKey: { name: "dedupeKey", type: "S" },
    indexes: [],
    ttlAttribute: "expiresAt",
  },
  /** Live WebSocket connections (presence): which gateway holds which user's sockets. */
  connections: {
    suffix: "connections",
    envVar: "PARLEY_TABLE_CONNECTIONS",
    partitionKey: { name: "connectionId", type: "S" },
    indexes: [
      {
        // What routing reads (store/connections.ts ConnectionRoute). Not lastSeen/expiresAt: their refresh then
        // writes the base table only (an index is written when a projected attribute changes).
        name: "byUser",
        partitionKey: { name: "userId", type: "S" },
        sortKey: { name: "connectionId", type: "S" },
        nonKeyAttributes: ["gatewayId", "internalUrl", "connectedAt"],
      },
      {
        name: "byGateway",
        partitionKey: { name: "gatewayId", type: "S" },
        sortKey: { name: "connectionId", type: "S" },
        nonKeyAttributes: ["userId"],
      },
    ],
    ttlAttribute: "expiresAt",
  },
  /**
   * Gateway-only auth state shared by every gateway task, each item expiring by TTL: failed-login counters
   * (`login:user:<username>`, `login:addr:<address>`) and revoked tokens (`revoked:<token id>`, until the token's
   * own expiry). Readers check `expiresAt` themselves, since TTL deletes lazily (and dynalite not at all).
   */
  auth: {
    suffix: "auth",
    envVar: "PARLEY_TABLE_AUTH",
    partitionKey: { name: "authKey", type: "S" },
    indexes: [],
    ttlAttribute: "expiresAt",
  },
} as const satisfies Record<string, TableDefinition>;

/**
 * The attributes DynamoDB must have defined for a table: exactly those its keys and index keys use (it
 * rejects definitions no key uses). Both the Pulumi table and the local CreateTable derive from this.
 */
export function keyAttributesOf(def: TableDefinition): KeyAttribute[] {
  const attrs = new Map<string, AttributeType>();
  for (const a of [def.partitionKey, def.sortKey, ...def.indexes.flatMap((i) => [i.partitionKey, i.sortKey])]) {
    if (a) attrs.set(a.name, a.type);
  }
  return [...attrs].map(([name, type]) => ({ name, type }));
}

export type TableKey = keyof typeof tables;
export const tableKeys = Object.keys(tables) as TableKey[];

/** Physical names for a deployment prefix, e.g. `parley-local`. */
export type TableNames = Record<TableKey, string>;

export function tableNamesFor(prefix: string): TableNames {
  return Object.fromEntries(tableKeys.map((k) => [k, `${prefix}-${tables[k].suffix}`])) as TableNames;
}

/** How long a dedupe record outlives its message's possible redeliveries (SQS retention is 4 days). */
export const DEDUPE_TTL_SECONDS = 14 * 24 * 3600;
