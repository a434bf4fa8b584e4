/**
 * Two promises of docs/protocol.md a client written from the docs relies on: `ready` is the first frame of every
 * socket (even while messages and presence changes are being routed to it as it opens), and a `sync` cursor
 * beyond the conversation's last seq is clamped to it, so the next message still arrives live.
 */
import { env } from "../../runtime/contracts";
import { api, Client } from "../support/clients";
import { bulkUsers, type TestUser } from "../support/users";
import { localStackSuite } from "../support/local-stack";
import { sleep, waitUntil } from "../support/timing";

jest.setTimeout(90_000);

const suite = localStackSuite({
  gateways: 2,
  inMemory: true,
  gatewayEnv: { [env.rateLimitPerSecond]: "5000", [env.rateLimitBurst]: "5000" },
});
const { gw, connect } = suite;

async function group(creator: TestUser, others: TestUser[], title: string): Promise<string> {
  const r = await api(
    gw(0),
    "POST",
    "/api/conversations",
    { kind: "group", title, memberIds: others.map((u) => u.userId) },
    creator.token,
  );
  expect(r.status).toBe(201);
  return r.body.conversation.conversationId as string;
}

describe("ready is the first frame of a socket", () => {
  it("holds for many concurrent connects while messages are sent and presence churns", async () => {
    const [sender, ...rest] = await bulkUsers(suite.stack, "rf", 21);
    const watchers = rest.slice(0, 16);
    const churners = rest.slice(16);
    const id = await group(sender!, rest, "ready first");

    let stop = false;
    const s = await connect(0, sender!, "sender");
    let n = 0;
    const sending = (async () => {
      while (!stop) {
        s.send({ type: "send", conversationId: id, clientMessageId: `rf-${n++}`, body: `m${n}` });
        await sleep(25);
      }
    })();
    // Churners come online and go offline over and over: each change is a presence frame to every member.
    const churning = churners.map(async (u, i) => {
      for (let round = 0; !stop; round++) {
        const c = await Client.connect(gw(i + round), u.token, { name: `churn-${i}` });
        await sleep(20);
        await c.close();
      }
    });
    const opened: Client[] = [];
    try {
      // Give the pipeline a moment so messages are flowing before the connects start.
      await waitUntil(async () => s.messages(id).length >= 3, { timeoutMs: 20_000 });
      for (let round = 0; round < 3; round++) {
        const batch = await Promise.all(watchers.map((u, i) => connect(i + round, u, `w${i}-r${round}`)));
        opened.push(...batch);
        // Let the frames routed to them arrive, then close them all so the next round churns presence too.
        await sleep(300);
        await Promise.all(batch.map((c) => c.close()));
      }
    } finally {
      stop = true;
      await Promise.allSettled([sending, ...churning]);
    }

    // The scenario routed traffic to the watchers while they were open (else it proves nothing).
    const beyondReady = opened.filter((c) => c.frames.some((f) => f.type === "presence" || f.type === "message"));
    expect(beyondReady.length).toBeGreaterThan(opened.length / 2);
    const wrongFirst = opened
      .filter((c) => c.frames[0]?.type !== "ready")
      .map((c) => `${c.name}: ${c.frames[0]?.type}`);
    expect(wrongFirst).toEqual([]);
    // Exactly one ready per socket.
    for (const c of opened) expect(c.frames.filter((f) => f.type === "ready")).toHaveLength(1);
  });
});

describe("sync clamps cursors to the conversation's last seq", () => {
  it("answers a cursor beyond lastSeq with lastSeq, and the next message is delivered live", async () => {
    const [alice, bob] = await bulkUsers(suite.stack, "sc", 2);
    const id = await group(alice!, [bob!], "clamp");
    const a = await connect(0, alice!);
    for (const k of [1, 2, 3]) a.send({ type: "send", conversationId: id, clientMessageId: `sc-${k}`, body: `m${k}` });
    await a.waitForMessages(id, 3);
    const lastSeq = 3;

    const b = await connect(1, bob!);
    b.send({ type: "sync", cursors: [{ conversationId: id, afterSeq: lastSeq + 50 }] });
    const synced = await b.waitFor((f) => f.type === "synced");
    expect(synced.cursors).toEqual([{ conversationId: id, lastSeq }]);
    expect(b.messages(id)).toEqual([]);

    a.send({ type: "send", conversationId: id, clientMessageId: "sc-4", body: "live after clamp" });
    const live = await b.waitFor((f) => f.type === "message" && f.conversationId === id, 10_000, "live message");
    expect(live).toMatchObject({ seq: lastSeq + 1, body: "live after clamp" });
  });

  it("a cursor at or below lastSeq is unchanged: the missing messages, then synced with lastSeq", async () => {
    const [alice, bob] = await bulkUsers(suite.stack, "sk", 2);
    const id = await group(alice!, [bob!], "no clamp");
    const a = await connect(0, alice!);
    for (const k of [1, 2]) a.send({ type: "send", conversationId: id, clientMessageId: `sk-${k}`, body: `m${k}` });
    await a.waitForMessages(id, 2);
    const b = await connect(1, bob!);
    b.send({
      type: "sync",
      cursors: [
        { conversationId: id, afterSeq: 1 },
        { conversationId: id, afterSeq: 2 },
      ],
    });
    const synced = await b.waitFor((f) => f.type === "synced");
    expect(synced.cursors).toEqual([
      { conversationId: id, lastSeq: 2 },
      { conversationId: id, lastSeq: 2 },
    ]);
    expect(b.messages(id).map((m) => m.seq)).toEqual([2]);
  });
});
