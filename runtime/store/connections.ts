/**
 * Live WebSocket connections (presence) and the gateway registry, both in the connections table. A connection
 * record is live while its owning gateway's registry record is (runtime/gateway/delivery/gateway-liveness.ts);
 * its own `expiresAt` is a long backstop for DynamoDB TTL. DynamoDB TTL deletes lazily (hours or days late, and
 * dynalite never does), so readers check `expiresAt` themselves.
 */
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { tables } from "../contracts";
import { batchDeleteAll, batchGetAll } from "./batch";
import { epochSeconds, ifConditionHolds, type Db } from "./db";
import { queryAll } from "./paging";

export interface ConnectionItem {
  readonly connectionId: string;
  readonly userId: string;
  readonly gatewayId: string;
  /** Base URL of the owning gateway's internal endpoint, e.g. http://10.0.1.7:8081. */
  readonly internalUrl: string;
  readonly connectedAt: number;
  /** Epoch ms the owning gateway last wrote the record (connect, backstop refresh, repair). */
  readonly lastSeen: number;
  /**
   * Epoch seconds (the DynamoDB TTL unit): the backstop, refreshed rarely, for records no reaper removes. After
   * this the connection counts as gone whatever its gateway's state.
   */
  readonly expiresAt: number;
}

/**
 * A connection as the byUser index answers it: what routing needs. `lastSeen` and `expiresAt` are not projected,
 * so refreshing them writes the base table only.
 */
export type ConnectionRoute = Pick<
  ConnectionItem,
  "connectionId" | "userId" | "gatewayId" | "internalUrl" | "connectedAt"
>;

/**
 * A gateway's own liveness record. It lives in the connections table under a reserved byGateway partition, so
 * the reaper finds every gateway with one Query (no Scan) and reaps the connections of those that stopped
 * heartbeating. It has no userId, so it never appears in the byUser index.
 */
export interface GatewayItem {
  readonly connectionId: string;
  readonly gatewayId: typeof GATEWAY_REGISTRY;
  readonly ownerGatewayId: string;
  readonly internalUrl: string;
  readonly startedAt: number;
  readonly lastSeen: number;
  readonly expiresAt: number;
}

export const GATEWAY_REGISTRY = "$gateways";
const GATEWAY_KEY_PREFIX = "$gateway#";

const [byUserIndex, byGatewayIndex] = tables.connections.indexes;

export const isLive = (item: { expiresAt: number }, now: number): boolean => item.expiresAt > epochSeconds(now);

export async function putConnection(db: Db<"connections">, item: ConnectionItem): Promise<void> {
  await db.ddb.send(new PutCommand({ TableName: db.tables.connections, Item: item }));
}

export async function deleteConnection(db: Db<"connections">, connectionId: string): Promise<void> {
  await db.ddb.send(new DeleteCommand({ TableName: db.tables.connections, Key: { connectionId } }));
}

/**
 * Deletes many records (a repeated id counts once: AWS refuses a batch naming a key twice), 25 per BatchWrite,
 * retrying unprocessed items with backoff.
 */
export async function deleteConnections(db: Db<"connections">, connectionIds: readonly string[]): Promise<void> {
  await batchDeleteAll(
    db.ddb,
    db.tables.connections,
    connectionIds.map((connectionId) => ({ connectionId })),
  );
}

/**
 * The records that exist for `connectionIds`, read from the base table — strongly consistent when `consistent`.
 * The indexes lag writes in AWS (a record deleted a moment ago can still be listed by byUser); this is the
 * check that does not.
 */
export async function getConnections(
  db: Db<"connections">,
  connectionIds: readonly string[],
  consistent = false,
): Promise<ConnectionItem[]> {
  return batchGetAll<ConnectionItem>(
    db.ddb,
    db.tables.connections,
    connectionIds.map((connectionId) => ({ connectionId })),
    consistent,
  );
}

/**
 * Refreshes a record's heartbeat. Returns false when the record is gone (e.g. a peer removed it because this
 * gateway did not answer in time), so the caller can put it back while the socket is still open.
 */
export async function touchConnection(
  db: Db<"connections">,
  connectionId: string,
  lastSeen: number,
  expiresAt: number,
): Promise<boolean> {
  const update = db.ddb.send(
    new UpdateCommand({
      TableName: db.tables.connections,
      Key: { connectionId },
      UpdateExpression: "SET lastSeen = :l, expiresAt = :e",
      ConditionExpression: "attribute_exists(connectionId)",
      ExpressionAttributeValues: { ":l": lastSeen, ":e": expiresAt },
    }),
  );
  return (await ifConditionHolds(update)) !== undefined;
}

/**
 * Every record of one user (live or not: callers judge their gateways' liveness). Read from the byUser index,
 * which is eventually consistent: it may still list a record deleted a moment ago.
 */
export async function listConnectionsByUser(db: Db<"connections">, userId: string): Promise<ConnectionRoute[]> {
  return queryAll<ConnectionRoute>(db.ddb, {
    TableName: db.tables.connections,
    IndexName: byUserIndex.name,
    KeyConditionExpression: "userId = :u",
    ExpressionAttributeValues: { ":u": userId },
  });
}

/** (connectionId, userId) of every record a gateway owns; the index projects only those (and lags writes). */
export async function listConnectionsByGateway(
  db: Db<"connections">,
  gatewayId: string,
): Promise<{ connectionId: string; userId: string }[]> {
  return queryAll<{ connectionId: string; userId: string }>(db.ddb, {
    TableName: db.tables.connections,
    IndexName: byGatewayIndex.name,
    KeyConditionExpression: "gatewayId = :g",
    ExpressionAttributeValues: { ":g": gatewayId },
  });
}

export const gatewayKey = (gatewayId: string): string => `${GATEWAY_KEY_PREFIX}${gatewayId}`;

export async function putGateway(
  db: Db<"connections">,
  g: { gatewayId: string; internalUrl: string; startedAt: number; lastSeen: number; expiresAt: number },
): Promise<void> {
  const item: GatewayItem = {
    connectionId: gatewayKey(g.gatewayId),
    gatewayId: GATEWAY_REGISTRY,
    ownerGatewayId: g.gatewayId,
    internalUrl: g.internalUrl,
    startedAt: g.startedAt,
    lastSeen: g.lastSeen,
    expiresAt: g.expiresAt,
  };
  await db.ddb.send(new PutCommand({ TableName: db.tables.connections, Item: item }));
}

/** Every registered gateway with its liveness (one Query on the registry partition, then BatchGet). */
export async function listGateways(db: Db<"connections">): Promise<GatewayItem[]> {
  const keys = (await listConnectionsByGateway(db, GATEWAY_REGISTRY)).map((k) => ({ connectionId: k.connectionId }));
  return batchGetAll<GatewayItem>(db.ddb, db.tables.connections, keys);
}

/** One gateway's registry record, read strongly consistently from the base table (no index lag). */
export async function getGateway(db: Db<"connections">, gatewayId: string): Promise<GatewayItem | undefined> {
  const out = await db.ddb.send(
    new GetCommand({
      TableName: db.tables.connections,
      Key: { connectionId: gatewayKey(gatewayId) },
      ConsistentRead: true,
    }),
  );
  return out.Item as GatewayItem | undefined;
}

/**
 * Removes a dead gateway's registry record, only if it is still expired (it may have come back). Returns
 * whether this caller removed it.
 */
export async function deleteGatewayIfExpired(db: Db<"connections">, gatewayId: string, now: number): Promise<boolean> {
  const remove = db.ddb.send(
    new DeleteCommand({
      TableName: db.tables.connections,
      Key: { connectionId: gatewayKey(gatewayId) },
      ConditionExpression: "expiresAt <= :now",
      ExpressionAttributeValues: { ":now": epochSeconds(now) },
    }),
  );
  return (await ifConditionHolds(remove)) !== undefined;
}

export async function deleteGateway(db: Db<"connections">, gatewayId: string): Promise<void> {
  await deleteConnection(db, gatewayKey(gatewayId));
}
