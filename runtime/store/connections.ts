/**
 * Live WebSocket connections (presence) and the gateway registry, both in the connections table.
 * DynamoDB TTL deletes lazily (hours or days late, and dynalite never does), so every reader here also
 * checks `expiresAt` itself.
 */
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  BatchWriteCommand,
  type BatchWriteCommandOutput,
  DeleteCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { tables } from "../contracts";
import { epochSeconds, isConditionalCheckFailed, type Db } from "./db";

export interface ConnectionItem {
  readonly connectionId: string;
  readonly userId: string;
  readonly gatewayId: string;
  /** Base URL of the owning gateway's internal endpoint, e.g. http://10.0.1.7:8081. */
  readonly internalUrl: string;
  readonly connectedAt: number;
  /** Epoch ms of the last heartbeat the owning gateway recorded. */
  readonly lastSeen: number;
  /** Epoch seconds (the DynamoDB TTL unit): after this the connection counts as gone. */
  readonly expiresAt: number;
}

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

/** Deletes many records, 25 per BatchWrite, retrying unprocessed items with backoff. */
export async function deleteConnections(db: Db<"connections">, connectionIds: readonly string[]): Promise<void> {
  for (let i = 0; i < connectionIds.length; i += 25) {
    let requests: NonNullable<BatchWriteCommandOutput["UnprocessedItems"]>[string] | undefined = connectionIds
      .slice(i, i + 25)
      .map((connectionId) => ({ DeleteRequest: { Key: { connectionId } } }));
    for (let attempt = 0; requests?.length && attempt < 8; attempt++) {
      if (attempt) await new Promise((r) => setTimeout(r, 2 ** attempt * 10));
      const out: BatchWriteCommandOutput = await db.ddb.send(
        new BatchWriteCommand({ RequestItems: { [db.tables.connections]: requests } }),
      );
      requests = out.UnprocessedItems?.[db.tables.connections];
    }
    if (requests?.length) throw new Error(`BatchWrite left ${requests.length} connection deletes unprocessed`);
  }
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
  try {
    await db.ddb.send(
      new UpdateCommand({
        TableName: db.tables.connections,
        Key: { connectionId },
        UpdateExpression: "SET lastSeen = :l, expiresAt = :e",
        ConditionExpression: "attribute_exists(connectionId)",
        ExpressionAttributeValues: { ":l": lastSeen, ":e": expiresAt },
      }),
    );
    return true;
  } catch (err) {
    if (isConditionalCheckFailed(err)) return false;
    throw err;
  }
}

/** Every record of one user (live or not: callers filter with isLive and clean up the rest). */
export async function listConnectionsByUser(db: Db<"connections">, userId: string): Promise<ConnectionItem[]> {
  const items: ConnectionItem[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await db.ddb.send(
      new QueryCommand({
        TableName: db.tables.connections,
        IndexName: byUserIndex.name,
        KeyConditionExpression: "userId = :u",
        ExpressionAttributeValues: { ":u": userId },
        ExclusiveStartKey: start,
      }),
    );
    items.push(...((out.Items ?? []) as ConnectionItem[]));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}

/** (connectionId, userId) of every record a gateway owns; the index projects only those. */
export async function listConnectionsByGateway(
  db: Db<"connections">,
  gatewayId: string,
): Promise<{ connectionId: string; userId: string }[]> {
  const items: { connectionId: string; userId: string }[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await db.ddb.send(
      new QueryCommand({
        TableName: db.tables.connections,
        IndexName: byGatewayIndex.name,
        KeyConditionExpression: "gatewayId = :g",
        ExpressionAttributeValues: { ":g": gatewayId },
        ExclusiveStartKey: start,
      }),
    );
    items.push(...((out.Items ?? []) as { connectionId: string; userId: string }[]));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
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
  const found: GatewayItem[] = [];
  for (let i = 0; i < keys.length; i += 100) {
    let pending: Record<string, unknown>[] | undefined = keys.slice(i, i + 100);
    for (let attempt = 0; pending?.length && attempt < 8; attempt++) {
      if (attempt) await new Promise((r) => setTimeout(r, 2 ** attempt * 10));
      const out: BatchGetCommandOutput = await db.ddb.send(
        new BatchGetCommand({ RequestItems: { [db.tables.connections]: { Keys: pending } } }),
      );
      found.push(...((out.Responses?.[db.tables.connections] ?? []) as GatewayItem[]));
      pending = out.UnprocessedKeys?.[db.tables.connections]?.Keys;
    }
  }
  return found;
}

/**
 * Removes a dead gateway's registry record, only if it is still expired (it may have come back). Returns
 * whether this caller removed it.
 */
export async function deleteGatewayIfExpired(db: Db<"connections">, gatewayId: string, now: number): Promise<boolean> {
  try {
    await db.ddb.send(
      new DeleteCommand({
        TableName: db.tables.connections,
        Key: { connectionId: gatewayKey(gatewayId) },
        ConditionExpression: "expiresAt <= :now",
        ExpressionAttributeValues: { ":now": epochSeconds(now) },
      }),
    );
    return true;
  } catch (err) {
    if (isConditionalCheckFailed(err)) return false;
    throw err;
  }
}

export async function deleteGateway(db: Db<"connections">, gatewayId: string): Promise<void> {
  await deleteConnection(db, gatewayKey(gatewayId));
}
