/**
 * Guarantees 1–5 end to end: real emulators, the persister runner and three gateway processes. Senders and
 * recipients sit on different gateways, which is the normal case in production.
 */
import { env } from "../../runtime/contracts";
import { api, Client, type Frame } from "../support/clients";
import { bulkUsers, signup } from "../support/users";
import { localStackSuite } from "../support/local-stack";
import { sleep } from "../support/timing";

jest.setTimeout(60_000);

const suite = localStackSuite({
  gateways: 3,
  inMemory: true,
  // The suite sends hundreds of frames from one socket; the rate limit has its own test elsewhere.
  gatewayEnv: { [env.rateLimitPerSecond]: "5000", [env.rateLimitBurst]: "5000" },
});
const { gw, connect } = suite;

function seqs(frames: Frame[]): number[] {
  return frames.map((f) => f.seq as number);
}

describe("direct conversation across two gateways", () => {
  it("delivers each message to Bob once and in order; Alice gets accepted, then her own message with its seq", async () => {
    const alice = await signup(gw(0), "alice");
    const bob = await signup(gw(1), "bob");
    const created = await api(gw(0), "POST", "/api/conversations", { kind: "direct", userId: bob.userId }, alice.token);
    expect(created.status).toBe(201);
    const id = created.body.conversation.conversationId;
    expect(id).toBe(`d:${[alice.userId, bob.userId].sort().join(":")}`);
    // Idempotent: the same pair (either way round) gets the same conversation, 200 not 201.
    const again = await api(gw(1), "POST", "/api/conversations", { kind: "direct", userId: alice.userId }, bob.token);
    expect(again.status).toBe(200);
    expect(again.body.conversation.conversationId).toBe(id);

    const a = await connect(0, alice);
    const b = await connect(1, bob);
    expect([a.ready.gatewayId, b.ready.gatewayId]).toEqual(["gw-1", "gw-2"]);

    const n = 20;
    for (let i = 0; i < n; i++)
      a.send({ type: "send", conversationId: id, clientMessageId: `m${i}`, body: `hello ${i}` });
    const atBob = await b.waitForMessages(id, n);
    const atAlice = await a.waitForMessages(id, n);
    await sleep(500); // any duplicate would arrive by now
    expect(seqs(b.messages(id))).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    expect(atBob.map((m) => m.body)).toEqual(Array.from({ length: n }, (_, i) => `hello ${i}`));
    expect(seqs(a.messages(id))).toEqual(seqs(atBob));
    // accepted strictly before the stored message comes back
    for (let i = 0; i < n; i++) {
      const acceptedAt = a.frames.findIndex((f) => f.type === "accepted" && f.clientMessageId === `m${i}`);
      const storedAt = a.frames.indexOf(atAlice.find((m) => m.clientMessageId === `m${i}`)!);
      expect(acceptedAt).toBeGreaterThanOrEqual(0);
      expect(acceptedAt).toBeLessThan(storedAt);
    }
    expect(atBob[0]).toMatchObject({ senderId: alice.userId, conversationId: id, clientMessageId: "m0" });

    const history = await api(gw(2), "GET", `/api/conversations/${id}/messages?limit=5`, undefined, bob.token);
    expect(history.status).toBe(200);
    expect(seqs(history.body.messages)).toEqual([16, 17, 18, 19, 20]);
    expect(history.body.hasMore).toBe(true);
    const older = await api(gw(2), "GET", `/api/conversations/${id}/messages?before=3`, undefined, bob.token);
    expect(seqs(older.body.messages)).toEqual([1, 2]);
    expect(older.body.hasMore).toBe(false);
  });
});

describe("groups: every member gets every message exactly once", () => {
  it("3 members on 3 gateways", async () => {
    const users = await Promise.all([0, 1, 2].map((i) => signup(gw(i), `g3m${i}`)));
    const created = await api(
      gw(0),
      "POST",
      "/api/conversations",
      { kind: "group", title: "three", memberIds: [users[1]!.userId, users[2]!.userId] },
      users[0]!.token,
    );
    expect(created.status).toBe(201);
    const id = created.body.conversation.conversationId as string;
    expect(created.body.conversation.memberIds).toEqual(users.map((u) => u.userId).sort());
    const cs = await Promise.all(users.map((u, i) => connect(i, u)));
    for (let round = 0; round < 4; round++) {
      cs.forEach((c, i) =>
        c.send({ type: "send", conversationId: id, clientMessageId: `r${round}u${i}`, body: `${round}/${i}` }),
      );
    }
    await Promise.all(cs.map((c) => c.waitForMessages(id, 12)));
    await sleep(500);
    for (const c of cs) expect(seqs(c.messages(id))).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
  });

  it("100 members spread over 3 gateways", async () => {
    const users = await bulkUsers(suite.stack, "hm", 100);
    const [owner, ...rest] = users;
    const created = await api(
      gw(0),
      "POST",
      "/api/conversations",
      { kind: "group", title: "hundred", memberIds: rest.map((u) => u.userId) },
      owner!.token,
    );
    expect(created.status).toBe(201);
    const id = created.body.conversation.conversationId as string;
    const cs: Client[] = [];
    for (let i = 0; i < users.length; i += 25) {
      cs.push(...(await Promise.all(users.slice(i, i + 25).map((u, j) => connect((i + j) % 3, u)))));
    }
    const senders = [0, 33, 67, 99];
    const perSender = 3;
    for (const s of senders) {
      for (let k = 0; k < perSender; k++) {
        cs[s]!.send({ type: "send", conversationId: id, clientMessageId: `s${s}k${k}`, body: `from ${s} #${k}` });
      }
    }
    const total = senders.length * perSender;
    await Promise.all(cs.map((c) => c.waitForMessages(id, total, 60_000)));
    await sleep(1_000);
    const expected = Array.from({ length: total }, (_, i) => i + 1);
    const wrong = cs.filter((c) => JSON.stringify(seqs(c.messages(id))) !== JSON.stringify(expected));
    expect(wrong.map((c) => `${c.name}: ${seqs(c.messages(id)).join(",")}`)).toEqual([]);
  }, 120_000);
});

describe("resume after a reconnect", () => {
  it("Bob gets exactly the 200 messages he missed, in order, then synced", async () => {
    const alice = await signup(gw(0), "ra");
    const bob = await signup(gw(1), "rb");
    const id = (await api(gw(0), "POST", "/api/conversations", { kind: "direct", userId: bob.userId }, alice.token))
      .body.conversation.conversationId as string;
    const a = await connect(0, alice);
    let b = await connect(1, bob);
    a.send({ type: "send", conversationId: id, clientMessageId: "before", body: "before" });
    await b.waitForMessages(id, 1);
    await b.close();

    for (let i = 0; i < 200; i++) a.send({ type: "send", conversationId: id, clientMessageId: `x${i}`, body: `x${i}` });
    await a.waitFor((f) => f.type === "accepted" && f.clientMessageId === "x199", 60_000);
    // The persister stores one FIFO group serially: on a loaded 2-core machine this is the slow part.
    await a.waitForMessages(id, 201, 100_000);

    b = await connect(2, bob, "bob-again");
    b.send({ type: "sync", cursors: [{ conversationId: id, afterSeq: 1 }] });
    const synced = await b.waitFor((f) => f.type === "synced", 20_000);
    expect(synced.cursors).toEqual([{ conversationId: id, lastSeq: 201 }]);
    const got = b.messages(id);
    expect(seqs(got)).toEqual(Array.from({ length: 200 }, (_, i) => i + 2));
    expect(got.map((m) => m.clientMessageId)).toEqual(Array.from({ length: 200 }, (_, i) => `x${i}`));
    expect(b.frames.findIndex((f) => f.type === "synced")).toBeGreaterThan(b.frames.indexOf(got.at(-1)!));
  }, 150_000);
});

describe("exactly-once storage across resends", () => {
  it("the same clientMessageId three times, once across a reconnect to another gateway, stores one message", async () => {
    const alice = await signup(gw(0), "da");
    const bob = await signup(gw(1), "db");
    const id = (await api(gw(0), "POST", "/api/conversations", { kind: "direct", userId: bob.userId }, alice.token))
      .body.conversation.conversationId as string;
    const b = await connect(1, bob);
    let a = await connect(0, alice);
    const frame = { type: "send", conversationId: id, clientMessageId: "dup-1", body: "only once" };
    a.send(frame);
    a.send(frame);
    await a.waitForMessages(id, 1);
    await a.close();
    a = await connect(2, alice, "alice-again");
    a.send(frame);
    await a.waitFor((f) => f.type === "accepted" && f.clientMessageId === "dup-1");
    a.send({ type: "send", conversationId: id, clientMessageId: "after", body: "after" });
    await b.waitForMessages(id, 2);
    await sleep(1_000);
    expect(b.messages(id).map((m) => [m.seq, m.clientMessageId])).toEqual([
      [1, "dup-1"],
      [2, "after"],
    ]);
    const history = await api(gw(0), "GET", `/api/conversations/${id}/messages`, undefined, alice.token);
    expect(history.body.messages.map((m: Frame) => m.clientMessageId)).toEqual(["dup-1", "after"]);
  });
});
