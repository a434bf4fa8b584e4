/**
 * Cache coherence between gateways: a peer's cached "no connections" for a user who just connected, and a cached
 * "no contacts" for users who just got a conversation together. Real gateway processes, emulators and persister;
 * the gateways are started through a support entry because the scenarios need settings no env var reaches: the
 * recipient's gateway consumes no notifications, so the gateway holding the stale entry is the one that routes.
 */
import { env, tableNamesFor } from "../../runtime/contracts";
import { createDynamoClient } from "../../runtime/aws/clients";
import { LOCAL_PREFIX, startLocalStack, type LocalStack } from "../../runtime/local/stack";
import { getGateway, putGateway } from "../../runtime/store/connections";
import { trustWindowMs, type GatewaySettings } from "../../runtime/gateway/context";
import { sleep, timing, waitUntil } from "../support/timing";
import { api, Client } from "../support/clients";
import { signup, type TestUser } from "../support/users";
import { startTestGateway, stopTestGateway, type TestGateway } from "./support/settings-gateway";

jest.setTimeout(90_000);

const DIRECTORY_TTL_MS = 8_000;
const CATCH_UP_MARGIN_MS = 1_000;
/**
 * Every gateway here uses a peer list at most this old for a connect, so connects read the registry afresh; and a
 * gateway caches directory answers only once its registration is older than this + the index lag + the clock
 * allowance (PeerList#peersAsOf, GatewayRegistry#start).
 */
const PEER_LIST_MAX_AGE_MS = 500;
const INDEX_LAG_MS = 2_000;

let stack: LocalStack;
/** Bob's side: takes connections, routes no notifications, and never refreshes its peer list on a timer. */
let home: TestGateway;
const clients: Client[] = [];
const extra: TestGateway[] = [];

async function startWithSettings(
  id: string,
  settings: Partial<GatewaySettings>,
  gatewayEnv?: Record<string, string>,
): Promise<TestGateway> {
  const all = {
    directoryTtlMs: DIRECTORY_TTL_MS,
    catchUpMarginMs: CATCH_UP_MARGIN_MS,
    peerListMaxAgeMs: PEER_LIST_MAX_AGE_MS,
    indexLagMs: INDEX_LAG_MS,
    ...settings,
  };
  const g = await startTestGateway(stack, id, { settings: all, ...(gatewayEnv ? { env: gatewayEnv } : {}) });
  trustedFrom.set(g, Date.now() + trustWindowMs(all));
  return g;
}

/** When each gateway started caching directory answers (its registration resolved before startTestGateway did). */
const trustedFrom = new Map<TestGateway, number>();

/** Waits until `g` caches what it reads, so that it can hold a stale entry at all. */
async function untilCaching(g: TestGateway): Promise<void> {
  await sleep(Math.max(0, trustedFrom.get(g)! - Date.now()) + 50);
}

/** A gateway that starts after `home` last read the registry: `home` does not know it yet. */
async function startRouter(
  id: string,
  settings: Partial<GatewaySettings> = {},
  gatewayEnv?: Record<string, string>,
): Promise<TestGateway> {
  const g = await startWithSettings(id, settings, gatewayEnv);
  extra.push(g);
  return g;
}

async function connect(g: TestGateway, user: TestUser, name = user.userId): Promise<Client> {
  const c = await Client.connect(g.url, user.token, { name });
  clients.push(c);
  return c;
}

async function direct(g: TestGateway, a: TestUser, b: TestUser): Promise<string> {
  const r = await api(g.url, "POST", "/api/conversations", { kind: "direct", userId: b.userId }, a.token);
  expect(r.status).toBe(201);
  return r.body.conversation.conversationId;
}

/**
 * Simulates lost invalidations: the registry sends peers to a port nobody listens on. Answers the gateway's own
 * internal URL, to put back with a second call.
 */
async function misdirectRegistry(g: TestGateway, internalUrl: string): Promise<string> {
  const ddb = createDynamoClient(stack.aws);
  try {
    const db = { ddb, tables: tableNamesFor(LOCAL_PREFIX) };
    const own = await getGateway(db, g.id);
    const now = Date.now();
    await putGateway(db, {
      gatewayId: g.id,
      internalUrl,
      startedAt: now,
      lastSeen: now,
      expiresAt: Math.ceil((now + 60_000) / 1000),
    });
    return own!.internalUrl;
  } finally {
    ddb.destroy();
  }
}

/** Alice (on `router`) sends seq 1 while Bob is offline, so `router` caches "Bob has no connections". */
async function primeStaleEntry(router: TestGateway, alice: TestUser, bob: TestUser) {
  await untilCaching(router);
  const id = await direct(router, alice, bob);
  const a = await connect(router, alice);
  a.send({ type: "send", conversationId: id, clientMessageId: "m1", body: "while bob is away" });
  await a.waitForMessages(id, 1);
  return { id, a };
}

beforeAll(async () => {
  stack = await startLocalStack({ gateways: 0, inMemory: true });
  home = await startWithSettings("gw-home", { notifyReceivers: 0, reaperMs: 600_000 });
}, 120_000);

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(extra.splice(0).map(stopTestGateway));
});

afterAll(async () => {
  if (home) await stopTestGateway(home);
  await stack?.stop();
});

describe("a peer's cached empty connection list for a user who just connected", () => {
  it("is invalidated on a gateway that started after the connecting gateway last read the registry", async () => {
    // Timing-free: the router's cache entry never expires during the test and Bob's gateway never catches up
    // from the table, so the invalidation on connect is the only way seq 2 can reach Bob at all.
    // The invalidation must not time out either: on a loaded machine the peer can take longer than 500 ms.
    const bobsHome = await startRouter("gw-home-nocatchup", {
      notifyReceivers: 0,
      reaperMs: 600_000,
      catchUpMarginMs: 600_000,
      peerTimeoutMs: timing.ms(30_000),
      invalidateTimeoutMs: timing.ms(30_000),
    });
    const router = await startRouter("gw-late", { directoryTtlMs: 600_000 });
    const alice = await signup(router.url, "alice");
    const bob = await signup(router.url, "bob");
    const { id, a } = await primeStaleEntry(router, alice, bob);

    const b = await connect(bobsHome, bob);
    b.send({ type: "sync", cursors: [{ conversationId: id, afterSeq: 0 }] });
    await b.waitFor((f) => f.type === "synced");
    a.send({ type: "send", conversationId: id, clientMessageId: "m2", body: "right after bob connected" });
    await a.waitForMessages(id, 2);
    await b.waitForMessages(id, 2, timing.ms(20_000));
    expect(b.messages(id).map((m) => m.seq)).toEqual([1, 2]);
  });

  it("is not needed on a gateway the connect's peer list cannot show yet: that gateway caches nothing", async () => {
    // Both use peer lists up to 10 min old, so the connect tells nobody of the router that started after Bob's
    // gateway read the registry; no catch-up runs during the test. Seq 2 can reach Bob only if the router, still
    // in its trust window, looked Bob up afresh instead of caching what it read for seq 1.
    const longLists = { peerListMaxAgeMs: 600_000 };
    const bobsHome = await startRouter("gw-home-oldlist", {
      ...longLists,
      notifyReceivers: 0,
      reaperMs: 600_000,
      catchUpMarginMs: 600_000,
    });
    const router = await startRouter("gw-new", { ...longLists, directoryTtlMs: 600_000 });
    const alice = await signup(router.url, "ivy");
    const bob = await signup(router.url, "jack");
    const id = await direct(router, alice, bob);
    const a = await connect(router, alice);
    a.send({ type: "send", conversationId: id, clientMessageId: "m1", body: "while jack is away" });
    await a.waitForMessages(id, 1);

    const b = await connect(bobsHome, bob);
    b.send({ type: "sync", cursors: [{ conversationId: id, afterSeq: 0 }] });
    await b.waitFor((f) => f.type === "synced");
    a.send({ type: "send", conversationId: id, clientMessageId: "m2", body: "right after jack connected" });
    await a.waitForMessages(id, 2);
    await b.waitForMessages(id, 2, timing.ms(20_000));
    expect(b.messages(id).map((m) => m.seq)).toEqual([1, 2]);
  });

  it("still reaches the socket when the invalidation is lost: caught up from the table after the TTL", async () => {
    const router = await startRouter("gw-deaf");
    const carol = await signup(router.url, "carol");
    const dave = await signup(router.url, "dave");
    const { id, a } = await primeStaleEntry(router, carol, dave);
    // Every invalidation meant for `router` now goes nowhere.
    await misdirectRegistry(router, "http://127.0.0.1:9");

    const d = await connect(home, dave);
    const connectedAt = Date.now();
    d.send({ type: "sync", cursors: [{ conversationId: id, afterSeq: 0 }] });
    await d.waitFor((f) => f.type === "synced");
    a.send({ type: "send", conversationId: id, clientMessageId: "m2", body: "routed past dave" });
    await a.waitForMessages(id, 2);
    // No further traffic: the catch-up alone must bring seq 2, within the documented bound.
    await d.waitForMessages(id, 2, DIRECTORY_TTL_MS + CATCH_UP_MARGIN_MS + 6_000);
    expect(Date.now() - connectedAt).toBeLessThan(DIRECTORY_TTL_MS + CATCH_UP_MARGIN_MS + 6_000);
    expect(d.messages(id).map((m) => m.seq)).toEqual([1, 2]);
    // Order and repeat suppression still hold afterwards.
    a.send({ type: "send", conversationId: id, clientMessageId: "m3", body: "and after" });
    await d.waitForMessages(id, 3);
    await sleep(300);
    expect(d.messages(id).map((m) => m.seq)).toEqual([1, 2, 3]);
  });
  it("is invalidated by a retry once the peer answers again: delivered live, with no catch-up", async () => {
    // Neither the router's cache entry nor Bob's catch-up expires during the test: only a retried invalidation
    // (or the catch-up it triggers) can bring seq 2, and seq 3 must then be routed to Bob live.
    const bobsHome = await startRouter("gw-home-retry", {
      notifyReceivers: 0,
      reaperMs: 600_000,
      catchUpMarginMs: 600_000,
    });
    const router = await startRouter("gw-flaky", { directoryTtlMs: 600_000 });
    const gina = await signup(router.url, "gina");
    const hank = await signup(router.url, "hank");
    const { id, a } = await primeStaleEntry(router, gina, hank);
    const ownUrl = await misdirectRegistry(router, "http://127.0.0.1:9");

    const h = await connect(bobsHome, hank);
    h.send({ type: "sync", cursors: [{ conversationId: id, afterSeq: 0 }] });
    await h.waitFor((f) => f.type === "synced");
    // The connect's invalidation went nowhere; the router answers again before the first retry.
    await misdirectRegistry(router, ownUrl);
    await waitUntil(async () => /"reached":1\b.*invalidation retry round/.test(bobsHome.output), {
      timeoutMs: timing.ms(20_000),
      what: "a retry that reached every peer",
    });
    a.send({ type: "send", conversationId: id, clientMessageId: "m2", body: "after the retry" });
    await a.waitForMessages(id, 2);
    await h.waitForMessages(id, 2, timing.ms(10_000));
    await sleep(300);
    expect(h.messages(id).map((m) => m.seq)).toEqual([1, 2]);
  });
});

describe("a peer's cached connection list for a user who disconnected", () => {
  /** The router's own account of routing `conversationId#seq` (its debug log line). */
  function routedStats(router: TestGateway, ref: string): { forwarded: number; removed: number } | undefined {
    for (const line of router.output.split("\n")) {
      if (!line.includes("routed notifications") || !line.includes(`"${ref}"`)) continue;
      return JSON.parse(line) as { forwarded: number; removed: number };
    }
    return undefined;
  }

  it("is invalidated by the disconnect: the next message is not forwarded to the closed socket", async () => {
    // The router's cache entry would outlive the test, so only the disconnect's invalidation can clear it. `home`
    // never reaps, but Fred's connect refreshed its peer list, which now names the router.
    const router = await startRouter("gw-router", { directoryTtlMs: 600_000 }, { [env.logLevel]: "debug" });
    const erin = await signup(router.url, "erin");
    const fred = await signup(router.url, "fred");
    const id = await direct(router, erin, fred);
    const e = await connect(router, erin);
    const f = await connect(home, fred);
    e.send({ type: "send", conversationId: id, clientMessageId: "m1", body: "fred is here" });
    await f.waitForMessages(id, 1);
    await waitUntil(async () => routedStats(router, `${id}#1`) !== undefined);
    expect(routedStats(router, `${id}#1`)).toMatchObject({ forwarded: 1, removed: 0 });

    await f.close();
    await sleep(500);
    e.send({ type: "send", conversationId: id, clientMessageId: "m2", body: "fred has gone" });
    await e.waitForMessages(id, 2);
    await waitUntil(async () => routedStats(router, `${id}#2`) !== undefined);
    // A stale entry would have been forwarded to `home`, answered "not here" and removed by the router.
    expect(routedStats(router, `${id}#2`)).toMatchObject({ forwarded: 0, removed: 0 });
  });
});

describe("presence between members of a conversation created after their contacts were cached", () => {
  /** Both connected (so each gateway cached "no contacts") before Alice creates the chat on `home`. */
  async function connectedThenChat(router: TestGateway) {
    const alice = await signup(home.url, "alice");
    const bob = await signup(home.url, "bob");
    const a = await connect(home, alice);
    const b = await connect(router, bob);
    // The online announcements (batched for 100 ms) read and cache each user's contacts: none yet.
    await sleep(600);
    await direct(home, alice, bob);
    return { alice, bob, a, b };
  }

  it("GET /api/presence on the other gateway answers from fresh memberships", async () => {
    const router = await startRouter("gw-presence-1");
    const { alice, bob } = await connectedThenChat(router);
    const r = await api(router.url, "GET", `/api/presence?userIds=${alice.userId}`, undefined, bob.token);
    expect(r.status).toBe(200);
    expect(r.body.presence).toEqual([{ userId: alice.userId, online: true, lastSeen: expect.any(Number) }]);
  });

  it("a co-member's disconnect on the other gateway reaches Alice as presence offline", async () => {
    const router = await startRouter("gw-presence-2");
    const { bob, a, b } = await connectedThenChat(router);
    const offline = a.next((f) => f.type === "presence" && f.userId === bob.userId && f.online === false, 8_000);
    await b.close();
    await expect(offline).resolves.toMatchObject({ userId: bob.userId, online: false });
  });

  it("when the contacts invalidation is lost, the conversation's first message drops the stale entry", async () => {
    const router = await startRouter("gw-presence-3");
    await misdirectRegistry(router, "http://127.0.0.1:9");
    const { bob, a, b } = await connectedThenChat(router);
    const id = [a.ready.userId, bob.userId].sort().join(":");
    // `home` routes no notifications: `router`, which holds Bob's stale contacts, routes this one.
    a.send({ type: "send", conversationId: `d:${id}`, clientMessageId: "hi", body: "hi" });
    await b.waitForMessages(`d:${id}`, 1);
    const offline = a.next((f) => f.type === "presence" && f.userId === bob.userId && f.online === false, 8_000);
    await b.close();
    await expect(offline).resolves.toMatchObject({ userId: bob.userId, online: false });
  });
});
