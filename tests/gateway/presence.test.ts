/**
 * Presence, typing, receipts and unread counts across three gateways, with a short heartbeat and presence TTL
 * (1 s / 3 s) so the crash bound is observable in seconds. Ends with a graceful SIGTERM and a SIGKILL.
 */
import { once } from "node:events";
import { closeCodes, env } from "../../runtime/contracts";
import { api, Client, type Frame } from "../support/clients";
import { signup, type TestUser } from "../support/users";
import { localStackSuite } from "../support/local-stack";
import { sleep } from "../support/timing";

jest.setTimeout(60_000);

const PRESENCE_TTL_SECONDS = 3;
const suite = localStackSuite({
  gateways: 3,
  inMemory: true,
  // A SIGKILLed gateway's pending long poll can take notifications with it; they come back after this.
  visibilityTimeoutSeconds: { notify: 5 },
  gatewayEnv: {
    [env.heartbeatMs]: "1000",
    [env.presenceTtlSeconds]: String(PRESENCE_TTL_SECONDS),
    [env.rateLimitPerSecond]: "1000",
    [env.rateLimitBurst]: "1000",
  },
});
const { gw, connect } = suite;

async function direct(a: TestUser, b: TestUser): Promise<string> {
  const r = await api(gw(0), "POST", "/api/conversations", { kind: "direct", userId: b.userId }, a.token);
  return r.body.conversation.conversationId;
}

/**
 * The presence transitions a client saw. Presence frames carry state, not events: several gateways may notice
 * the same crash and each say "offline", so repeats are collapsed.
 */
const presenceOf = (c: Client, userId: string) =>
  c.frames
    .filter((f) => f.type === "presence" && f.userId === userId)
    .map((f) => f.online as boolean)
    .filter((online, i, all) => i === 0 || all[i - 1] !== online);

describe("typing, receipts and unread counts", () => {
  let alice: TestUser, bob: TestUser, carol: TestUser, dave: TestUser;
  let group: string;

  beforeAll(async () => {
    [alice, bob, carol, dave] = (await Promise.all(["ta", "tb", "tc", "td"].map((s, i) => signup(gw(i % 3), s)))) as [
      TestUser,
      TestUser,
      TestUser,
      TestUser,
    ];
    const r = await api(
      gw(1),
      "POST",
      "/api/conversations",
      { kind: "group", title: "team", memberIds: [bob.userId, carol.userId] },
      alice.token,
    );
    group = r.body.conversation.conversationId;
    // Dave shares a conversation with Alice, but not the group.
    await direct(dave, alice);
  });

  it("typing reaches the other members only, and is throttled", async () => {
    const [a, b, c, d] = (await Promise.all([alice, bob, carol, dave].map((u, i) => connect(i % 3, u)))) as [
      Client,
      Client,
      Client,
      Client,
    ];
    a.send({ type: "typing", conversationId: group });
    a.send({ type: "typing", conversationId: group });
    const expected = { type: "typing", conversationId: group, userId: alice.userId };
    await expect(b.waitFor((f) => f.type === "typing")).resolves.toEqual(expected);
    await expect(c.waitFor((f) => f.type === "typing")).resolves.toEqual(expected);
    await sleep(500);
    expect(b.frames.filter((f) => f.type === "typing")).toHaveLength(1);
    expect(a.frames.filter((f) => f.type === "typing")).toHaveLength(0);
    expect(d.frames.filter((f) => f.type === "typing")).toHaveLength(0);
  });

  it("reads advance lastReadSeq, send receipts to members only, and drive unread counts", async () => {
    const [a, b, c, d] = (await Promise.all([alice, bob, carol, dave].map((u, i) => connect(i % 3, u)))) as [
      Client,
      Client,
      Client,
      Client,
    ];
    for (let i = 0; i < 3; i++)
      a.send({ type: "send", conversationId: group, clientMessageId: `u${i}`, body: `u${i}` });
    await b.waitForMessages(group, 3);
    await a.waitForMessages(group, 3);

    const summary = async (u: TestUser) =>
      (await api(gw(2), "GET", "/api/conversations", undefined, u.token)).body.conversations.find(
        (x: Frame) => x.conversationId === group,
      );
    expect(await summary(bob)).toMatchObject({ lastSeq: 3, lastReadSeq: 0, unread: 3, lastPreview: "u2" });
    // Sending implies having read: the persister records it with the summary, before anyone is notified.
    expect(await summary(alice)).toMatchObject({ lastSeq: 3, lastReadSeq: 3, unread: 0 });
    const page = await api(gw(0), "GET", `/api/conversations/${group}/messages`, undefined, carol.token);
    expect(page.body.readPositions).toMatchObject({ [alice.userId]: 3, [bob.userId]: 0, [carol.userId]: 0 });

    b.send({ type: "read", conversationId: group, seq: 2 });
    const receipt = { type: "read", conversationId: group, userId: bob.userId, seq: 2 };
    await expect(a.waitFor((f) => f.type === "read")).resolves.toEqual(receipt);
    await expect(c.waitFor((f) => f.type === "read")).resolves.toEqual(receipt);
    expect(await summary(bob)).toMatchObject({ lastReadSeq: 2, unread: 1 });

    // Going backwards changes nothing; reading past the newest message is clamped to it.
    b.send({ type: "read", conversationId: group, seq: 1 });
    b.send({ type: "read", conversationId: group, seq: 99 });
    await a.waitFor((f) => f.type === "read" && f.seq === 3);
    expect(await summary(bob)).toMatchObject({ lastReadSeq: 3, unread: 0 });
    expect(await summary(carol)).toMatchObject({ lastReadSeq: 0, unread: 3 });
    await sleep(300);
    expect(d.frames.filter((f) => f.type === "read")).toHaveLength(0);
  });
});

describe("presence", () => {
  it("contacts see a user come online and go offline; GET /api/presence agrees and answers contacts only", async () => {
    const [alice, bob, stranger] = await Promise.all([signup(gw(0), "pa"), signup(gw(1), "pb"), signup(gw(2), "ps")]);
    await direct(alice, bob);
    const a = await connect(0, alice);
    const b = await connect(1, bob);
    await a.waitFor((f) => f.type === "presence" && f.userId === bob.userId && f.online === true);
    const online = await api(
      gw(2),
      "GET",
      `/api/presence?userIds=${bob.userId},${stranger.userId}`,
      undefined,
      alice.token,
    );
    expect(online.status).toBe(200);
    expect(online.body.presence).toEqual([{ userId: bob.userId, online: true, lastSeen: expect.any(Number) }]);

    await b.close();
    await a.waitFor((f) => f.type === "presence" && f.userId === bob.userId && f.online === false, 5_000);
    const offline = await api(gw(2), "GET", `/api/presence?userIds=${bob.userId}`, undefined, alice.token);
    expect(offline.body.presence[0]).toMatchObject({ userId: bob.userId, online: false });
    expect(offline.body.presence[0].lastSeen).toBeGreaterThan(0);
  });

  it("SIGTERM: sockets close with 1001, records go at once (no waiting for the TTL), the process exits", async () => {
    const [alice, bob] = await Promise.all([signup(gw(0), "sa"), signup(gw(2), "sb")]);
    await direct(alice, bob);
    const a = await connect(0, alice);
    const b = await connect(2, bob);
    await a.waitFor((f) => f.type === "presence" && f.userId === bob.userId && f.online);
    const child = suite.stack.gateways[2]!.process.child;
    const exited = once(child, "exit");
    const started = Date.now();
    child.kill("SIGTERM");
    expect(await b.closed()).toBe(closeCodes.goingAway);
    await a.waitFor((f) => f.type === "presence" && f.userId === bob.userId && !f.online, 5_000);
    const [code] = await exited;
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(5_000);
    await suite.stack.gateways[2]!.restart();
  });

  it("SIGKILL of a gateway: contacts see its users offline within the bound; they reconnect elsewhere and miss nothing", async () => {
    const [alice, bob, carol] = await Promise.all([signup(gw(0), "ka"), signup(gw(1), "kb"), signup(gw(2), "kc")]);
    const withBob = await direct(alice, bob);
    const withCarol = await direct(alice, carol);
    const a = await connect(0, alice);
    const b = await connect(1, bob);
    const c = await connect(1, carol);
    await a.waitFor((f) => f.type === "presence" && f.userId === bob.userId && f.online);
    await a.waitFor((f) => f.type === "presence" && f.userId === carol.userId && f.online);
    a.send({ type: "send", conversationId: withBob, clientMessageId: "b0", body: "before the crash" });
    a.send({ type: "send", conversationId: withCarol, clientMessageId: "c0", body: "before the crash" });
    await b.waitForMessages(withBob, 1);
    await c.waitForMessages(withCarol, 1);

    const killedAt = Date.now();
    await suite.stack.gateways[1]!.process.kill();
    // Carol gets traffic at once: routing to the dead gateway fails and removes her record. Bob gets none, so
    // only the reaper (the dead gateway's registry record expiring) can take him offline.
    for (let i = 1; i <= 5; i++) {
      a.send({ type: "send", conversationId: withCarol, clientMessageId: `c${i}`, body: `c${i}` });
    }
    await a.waitFor((f) => f.type === "presence" && f.userId === carol.userId && f.online === false, 10_000);
    await a.waitFor((f) => f.type === "presence" && f.userId === bob.userId && f.online === false, 10_000);
    const elapsed = Date.now() - killedAt;
    // docs/protocol.md: offline within the presence TTL after the gateway's last heartbeat (plus delivery time).
    expect(elapsed).toBeLessThanOrEqual(PRESENCE_TTL_SECONDS * 1000 + 1_500);
    expect(presenceOf(a, bob.userId)).toEqual([true, false]);
    expect(presenceOf(a, carol.userId)).toEqual([true, false]);
    for (let i = 1; i <= 3; i++)
      a.send({ type: "send", conversationId: withBob, clientMessageId: `b${i}`, body: `b${i}` });
    await a.waitForMessages(withBob, 4);
    await a.waitForMessages(withCarol, 6);

    const b2 = await connect(2, bob, "bob-elsewhere");
    const c2 = await connect(0, carol, "carol-elsewhere");
    b2.send({ type: "sync", cursors: [{ conversationId: withBob, afterSeq: 1 }] });
    c2.send({ type: "sync", cursors: [{ conversationId: withCarol, afterSeq: 1 }] });
    await b2.waitFor((f) => f.type === "synced");
    await c2.waitFor((f) => f.type === "synced");
    expect(b2.messages(withBob).map((m) => m.clientMessageId)).toEqual(["b1", "b2", "b3"]);
    expect(c2.messages(withCarol).map((m) => m.clientMessageId)).toEqual(["c1", "c2", "c3", "c4", "c5"]);
    await a.waitFor((f) => f.type === "presence" && f.userId === bob.userId && f.online === true, 5_000);
  });
});
