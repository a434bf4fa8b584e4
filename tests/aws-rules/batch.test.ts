/**
 * AWS refuses a BatchWrite/BatchGet that names a key twice (ValidationException: Provided list of item keys
 * contains duplicates) and may hand back part of a batch unprocessed. Under the AWS-rules layer: routing that
 * finds the same stale connection in several notifications removes it, and the store's batch helpers drop
 * repeated keys and finish the unprocessed rest.
 */
import { randomBytes } from "node:crypto";
import { BatchWriteCommand } from "@aws-sdk/lib-dynamodb";
import { env, loadGatewayConfig } from "../../runtime/contracts";
import { deriveSettings, type GatewayContext } from "../../runtime/gateway/context";
import { ConnectionDirectory } from "../../runtime/gateway/delivery/directory";
import { createLogger } from "../../runtime/gateway/logger";
import { Router } from "../../runtime/gateway/delivery/routing";
import { LocalSessions } from "../../runtime/gateway/sessions";
import { localEnv } from "../../runtime/local/provision";
import { deleteConnections, getConnections, putConnection, type ConnectionItem } from "../../runtime/store/connections";
import { getConversations } from "../../runtime/store/conversations";
import { AwsRules } from "../support/aws-faults";
import { startEmulated, type Emulated } from "../support/emulated";
import { createGroups } from "../support/pipeline";

let em: Emulated;
let rules: AwsRules;

beforeAll(async () => {
  em = await startEmulated();
  rules = new AwsRules(em.provisioned.tableNames, { unprocessedFraction: 0.5 });
}, 60_000);

afterAll(async () => {
  await em?.close();
});

const record = (connectionId: string, gatewayId: string): ConnectionItem => ({
  connectionId,
  userId: "dana",
  gatewayId,
  internalUrl: "http://127.0.0.1:1",
  connectedAt: Date.now(),
  lastSeen: Date.now(),
  expiresAt: Math.floor(Date.now() / 1000) + 600,
});

function context(): GatewayContext {
  const config = loadGatewayConfig({
    ...localEnv(em.provisioned, { sqs: em.emulators.sqs.endpoint, dynamodb: em.emulators.dynamodb.endpoint }),
    [env.jwtSecret]: randomBytes(32).toString("base64url"),
    [env.internalSecret]: randomBytes(32).toString("base64url"),
    [env.allowedOrigins]: "http://127.0.0.1:1",
  });
  return {
    config,
    settings: deriveSettings(config),
    gatewayId: "gw-here",
    internalUrl: "http://127.0.0.1:1",
    db: { ddb: rules.wrap(em.ddb), tables: config.tables },
    sqs: {} as never,
    log: createLogger("silent"),
    tokens: {} as never,
    now: Date.now,
  };
}

describe("the AWS-rules layer", () => {
  it("refuses a batch naming a key twice, as AWS does", async () => {
    const db = { ...em.db, ddb: rules.wrap(em.ddb) };
    const before = rules.stats.duplicateBatchesRejected;
    await expect(
      db.ddb.send(
        new BatchWriteCommand({
          RequestItems: {
            [em.provisioned.tableNames.connections]: [
              { DeleteRequest: { Key: { connectionId: "x" } } },
              { DeleteRequest: { Key: { connectionId: "x" } } },
            ],
          },
        }),
      ),
    ).rejects.toMatchObject({ name: "ValidationException" });
    expect(rules.stats.duplicateBatchesRejected).toBe(before + 1);
  });
});

describe("routing", () => {
  it("removes a stale connection that several notifications listed (one delete per key)", async () => {
    const ctx = context();
    const stale = record(`stale-${Date.now()}`, ctx.gatewayId);
    await putConnection(em.db, stale);
    const removed: string[][] = [];
    const router = new Router(ctx, new LocalSessions(), new ConnectionDirectory(ctx), {
      onRecordsRemoved: (_users, ids) => removed.push(ids),
    });
    // Three notifications for a member whose only record is on this gateway, with no socket behind it.
    const stats = await router.routeToConnections(
      [1, 2, 3].map((seq) => ({
        frame: `F${seq}`,
        message: { conversationId: "g:abcdefgh12", seq },
        connections: [stale],
      })),
    );
    expect(await getConnections(em.db, [stale.connectionId], true)).toEqual([]);
    expect(stats.removed).toBe(1);
    expect(removed).toEqual([[stale.connectionId]]);
  });
});

describe("store batch helpers", () => {
  it("deleteConnections drops repeated ids and finishes the unprocessed items", async () => {
    const ids = Array.from({ length: 60 }, (_, i) => `del-${i}-${randomBytes(3).toString("hex")}`);
    for (const id of ids) await putConnection(em.db, record(id, "gw-x"));
    const db = { ...em.db, ddb: rules.wrap(em.ddb) };
    const unprocessed = rules.stats.unprocessedReturned;
    await deleteConnections(db, [...ids, ...ids.slice(0, 10), ids[59]!]);
    expect(rules.stats.unprocessedReturned).toBeGreaterThan(unprocessed);
    expect(await getConnections(em.db, ids, true)).toEqual([]);
  });

  it("getConversations returns each conversation once, repeated ids and unprocessed keys included", async () => {
    const ids = await createGroups(em.db, 12);
    const db = { ...em.db, ddb: rules.wrap(em.ddb) };
    const unprocessed = rules.stats.unprocessedReturned;
    const found = await getConversations(db, [...ids, ...ids], true);
    expect(rules.stats.unprocessedReturned).toBeGreaterThan(unprocessed);
    expect(found.map((c) => c.conversationId).sort()).toEqual([...ids].sort());
  });
});
