/**
 * Presence under AWS's rules for indexes and batches: the byUser/byGateway indexes answer from the view before
 * recent writes (a deleted connection is still listed for a while), and batch calls hand back part of their work
 * unprocessed. The AWS-rules layer (tests/support/aws-faults.ts) wraps every gateway's DynamoDB client with one
 * shared write log. Whatever the index shows, a user whose last connection went away is announced offline to
 * their contacts, gets lastSeen, and no stale record stays behind — after a close, a reaper pass and a shutdown;
 * and one who reconnects while the index still lists the closed connection is announced online again.
 */
import { gatewayKey, getConnections, listGateways, putConnection, putGateway } from "../../runtime/store/connections";
import { createConversation } from "../../runtime/store/conversations";
import { getUser } from "../../runtime/store/users";
import { api, Client } from "../support/clients";
import { type TestUser } from "../support/users";
import { sleep, waitUntil } from "../support/timing";
import { AwsRules } from "../support/aws-faults";
import { startEmulated, type Emulated } from "../support/emulated";
import { inProcessGateways, type GatewayFactory, type InProcessGateway } from "../support/in-process";

jest.setTimeout(60_000);

/** Longer than any wait below: during a test the index never catches up with the writes it made. */
const LAG_MS = 20_000;
/** How long a correct gateway may take to announce; the old code never does within the lag. */
const ANNOUNCE_MS = 6_000;

let em: Emulated;
let rules: AwsRules;
let gateways: GatewayFactory;
let g1: InProcessGateway;
let g2: InProcessGateway;
const clients: Client[] = [];

const wrap = () => ({ ddb: (c: Parameters<AwsRules["wrap"]>[0]) => rules.wrap(c) });

beforeAll(async () => {
  em = await startEmulated();
  rules = new AwsRules(em.provisioned.tableNames, { unprocessedFraction: 0.5 });
  gateways = inProcessGateways(em);
  const settings = { reaperMs: 300 };
  g1 = await gateways.start({ wrapClients: wrap(), settings });
  g2 = await gateways.start({ wrapClients: wrap(), settings });
}, 60_000);

afterEach(async () => {
  rules.indexLagMs = 0;
  await Promise.all(clients.splice(0).map((c) => c.close()));
  // Past a reaper pass, so no write made under the lag is still on its way; then the indexes catch up.
  await sleep(700);
  rules.catchUp();
});

afterAll(async () => {
  await g1?.stop();
  await g2?.stop();
  await em?.close();
});

async function connect(gw: InProcessGateway, user: TestUser, name: string): Promise<Client> {
  const c = await Client.connect(gw.url, user.token, { name });
  clients.push(c);
  return c;
}

/** Alice and Bob share a direct conversation, so each sees the other's presence. */
async function pair(): Promise<{ alice: TestUser; bob: TestUser }> {
  const alice = await gateways.user("alice");
  const bob = await gateways.user("bob");
  const [a, b] = [alice.userId, bob.userId].sort();
  await createConversation(em.db, {
    conversationId: `d:${a}:${b}`,
    kind: "direct",
    memberIds: [a!, b!],
    createdBy: alice.userId,
    createdAt: Date.now(),
  });
  return { alice, bob };
}

const offline = (userId: string) => (f: { type: string; userId?: string; online?: boolean }) =>
  f.type === "presence" && f.userId === userId && f.online === false;

async function expectOfflineAndLastSeen(watcher: Client, userId: string, since: number): Promise<void> {
  const frame = await watcher.waitFor(offline(userId), ANNOUNCE_MS, `presence offline for ${userId}`);
  expect(frame.lastSeen).toBeGreaterThanOrEqual(since);
  const user = await waitUntil(
    async () => {
      const u = await getUser(em.db, userId);
      return u?.lastSeen !== undefined && u;
    },
    { timeoutMs: ANNOUNCE_MS },
  );
  expect(user.lastSeen).toBeGreaterThanOrEqual(since);
}

describe("with the connection indexes lagging behind writes", () => {
  it("the layer does serve the pre-write view: a deleted record is still listed by byUser", async () => {
    const { alice } = await pair();
    const a = await connect(g1, alice, "alice");
    await rules.indexesSettled();
    rules.indexLagMs = LAG_MS;
    const stale = rules.stats.staleIndexAnswers;
    await a.close();
    // The directory on g1 re-reads the index when the socket closes: the layer answered with the old view.
    await waitUntil(async () => rules.stats.staleIndexAnswers > stale, { timeoutMs: ANNOUNCE_MS });
    // And batches come back partly unprocessed: the registry read (a BatchGet of both gateways) still finds both.
    const unprocessed = rules.stats.unprocessedReturned;
    const registry = await listGateways({ ...em.db, ddb: rules.wrap(em.ddb) });
    expect(registry.map((g) => g.ownerGatewayId)).toEqual(expect.arrayContaining([g1.gatewayId, g2.gatewayId]));
    expect(rules.stats.unprocessedReturned).toBeGreaterThan(unprocessed);
  });

  it("a user's last socket closing announces them offline and records lastSeen", async () => {
    const { alice, bob } = await pair();
    const b = await connect(g1, bob, "bob");
    const a = await connect(g1, alice, "alice");
    await rules.indexesSettled();
    rules.indexLagMs = LAG_MS;
    const since = Date.now();
    await a.close();
    await expectOfflineAndLastSeen(b, alice.userId, since);
    // Asked explicitly, the gateway agrees, though the index still lists her closed connection.
    const asked = await api(g1.url, "GET", `/api/presence?userIds=${alice.userId}`, undefined, bob.token);
    expect(asked.body.presence).toEqual([{ userId: alice.userId, online: false, lastSeen: expect.any(Number) }]);
    expect(asked.body.presence[0].lastSeen).toBeGreaterThanOrEqual(since);
  });

  it("two sockets on two gateways closing at once: no ghost online, the user is announced offline", async () => {
    const { alice, bob } = await pair();
    const b = await connect(g1, bob, "bob");
    const a1 = await connect(g1, alice, "alice@g1");
    const a2 = await connect(g2, alice, "alice@g2");
    await rules.indexesSettled();
    rules.indexLagMs = LAG_MS;
    const since = Date.now();
    await Promise.all([a1.close(), a2.close()]);
    await expectOfflineAndLastSeen(b, alice.userId, since);
  });

  // A reload: the old socket is gone, the new one opens while the index still lists the old record. The connect
  // must not take that record for "still online elsewhere": it is announced online, here and across gateways.
  for (const where of ["the same gateway", "another gateway"] as const) {
    it(`reconnecting on ${where} within the index lag after the last close: announced online again`, async () => {
      const { alice, bob } = await pair();
      const b = await connect(g1, bob, "bob");
      const a1 = await connect(g1, alice, "alice#1");
      await rules.indexesSettled();
      rules.indexLagMs = LAG_MS;
      await a1.close();
      await b.waitFor(offline(alice.userId), ANNOUNCE_MS, "presence offline for alice");
      const online = b.next(
        (f) => f.type === "presence" && f.userId === alice.userId && f.online === true,
        ANNOUNCE_MS,
        "presence online for alice",
      );
      await connect(where === "the same gateway" ? g1 : g2, alice, "alice#2");
      expect((await online).online).toBe(true);
    });
  }

  it("the reaper removes a dead gateway's records, announces its users offline and records lastSeen", async () => {
    const { alice, bob } = await pair();
    const b = await connect(g1, bob, "bob");
    await rules.indexesSettled();
    const dead = `gw-dead-${Date.now().toString(36)}`;
    const now = Date.now();
    // A gateway that stopped heartbeating a while ago, still holding Alice's record (written long before: the
    // index has it). Its registry record has expired, her connection record has not yet.
    await putConnection(em.db, {
      connectionId: `${dead}-c1`,
      userId: alice.userId,
      gatewayId: dead,
      internalUrl: "http://127.0.0.1:9",
      connectedAt: now - 120_000,
      lastSeen: now - 80_000,
      expiresAt: Math.floor(now / 1000) + 10,
    });
    rules.indexLagMs = LAG_MS;
    await putGateway(em.db, {
      gatewayId: dead,
      internalUrl: "http://127.0.0.1:9",
      startedAt: now - 120_000,
      lastSeen: now - 80_000,
      expiresAt: Math.floor(now / 1000) - 1,
    });
    await expectOfflineAndLastSeen(b, alice.userId, now);
    // Both gateways reap; the announcement can come from either pass, so the records are awaited, not sampled.
    const left = await waitUntil(
      async () => {
        const records = await getConnections(em.db, [`${dead}-c1`, gatewayKey(dead)], true);
        return records.length === 0 ? records : undefined;
      },
      { timeoutMs: ANNOUNCE_MS },
    ).catch(() => getConnections(em.db, [`${dead}-c1`, gatewayKey(dead)], true));
    expect(left).toEqual([]);
  });

  it("a gateway shutting down announces its users offline and records lastSeen", async () => {
    const { alice, bob } = await pair();
    const g3 = await gateways.start({ wrapClients: wrap() });
    const b = await connect(g1, bob, "bob");
    const a = await connect(g3, alice, "alice@g3");
    await rules.indexesSettled();
    rules.indexLagMs = LAG_MS;
    const since = Date.now();
    await g3.stop();
    expect(await a.closed()).toBe(1001);
    await expectOfflineAndLastSeen(b, alice.userId, since);
    expect(await getConnections(em.db, [a.ready.connectionId], true)).toEqual([]);
  });
});
