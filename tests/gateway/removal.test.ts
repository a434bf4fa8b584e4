/**
 * The authorization matrix of a removal (issue 16), against a whole local stack with two gateways. Carol is a
 * member with a socket on each gateway and has used the conversation on both (sent, typed, read, synced, fetched
 * history), so every membership cache holds her: both gateways' member caches, the persister's members cache,
 * and the presence contacts of Bob (read when he came online). Then Alice, the creator, removes her.
 *
 * The moment the `remove` event reaches one of Carol's sockets, every frame kind naming the conversation is sent
 * on that socket and the HTTP routes are called on that gateway: each must answer NOT_MEMBER / 403 at once. The
 * caches involved live 30 s or more, so a cache corrected only by its TTL fails these (nothing waits for it to
 * expire). After it Carol gets no live frame of the conversation (messages, typing from either gateway,
 * receipts) and no presence of Bob, whom she no longer shares a conversation with; and an entry from her put
 * straight on the inbound queue (as one a gateway accepted just before it knew) is refused by the persister:
 * not stored, dead-lettered, logged as poison with the reason.
 */
import { ReceiveMessageCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { inboundDeduplicationId } from "../../runtime/aws/dedup-id";
import { encodeQueueBody, env, type InboundMessage } from "../../runtime/contracts";
import { api, type Client } from "../support/clients";
import {
  chatList,
  commit,
  createDirect,
  createGroup,
  entryAt,
  exchange,
  fullHistory,
  isEntry,
  messageItems,
  request,
} from "../support/chat";
import { awsClients } from "../support/emulated";
import { localStackSuite } from "../support/local-stack";
import { queueCounts } from "../support/pipeline";
import { timing, waitUntil } from "../support/timing";
import { bulkUsers, type TestUser } from "../support/users";

jest.setTimeout(60_000);

const suite = localStackSuite({
  gateways: 2,
  inMemory: true,
  gatewayEnv: { [env.rateLimitPerSecond]: "200", [env.rateLimitBurst]: "400" },
});

let counter = 0;
const cmid = (stem: string) => `${stem}-${(counter++).toString(36)}`;
const msg = (conversationId: string, body: string) => ({
  type: "send",
  conversationId,
  clientMessageId: cmid("m"),
  body,
});

/** Every frame kind that names a conversation, as Carol would send them about `id` (`own`: a message of hers). */
function everyFrame(id: string, own: number, latest: number, dave: TestUser, bob: TestUser) {
  const change = (type: string, rest: Record<string, unknown>) => ({
    type,
    conversationId: id,
    clientMessageId: cmid(type),
    ...rest,
  });
  return [
    msg(id, "am I still here?"),
    change("edit", { seq: own, body: "edited after the removal" }),
    change("delete", { seq: own }),
    change("react", { seq: own, emoji: "👍", on: true }),
    { type: "typing", conversationId: id },
    { type: "read", conversationId: id, seq: latest },
    { type: "sync", cursors: [{ conversationId: id, afterSeq: 0 }] },
    change("addMembers", { userIds: [dave.userId] }),
    change("rename", { title: "Carol's now" }),
    change("leave", {}),
    change("removeMember", { userId: bob.userId }),
  ];
}

/** The frames `c` received after `index` that belong to conversation `id` (answers to her own frames aside). */
const liveAfter = (c: Client, index: number, id: string) =>
  c.frames.slice(index + 1).filter((f) => f.type !== "error" && f.conversationId === id);

test("a removed member is refused every frame kind and route on both gateways at once, and gets nothing after", async () => {
  const { stack } = suite;
  const [alice, bob, carol, dave] = (await bulkUsers(stack, "rm", 4)) as [TestUser, TestUser, TestUser, TestUser];
  const id = await createGroup(suite.gw(0), alice, [bob, carol], "soon without carol");
  // Alice and Carol also share a direct chat: its messages are the barrier of the "nothing after" checks.
  const direct = await createDirect(suite.gw(0), alice, carol);

  // Carol first, so Bob's coming online (his contacts read then, with Carol in them) is announced to her.
  const c1 = await suite.connect(0, carol, "carol@gw-1");
  const c2 = await suite.connect(1, carol, "carol@gw-2");
  const a = await suite.connect(0, alice, "alice@gw-1");
  const b = await suite.connect(1, bob, "bob@gw-2");
  const carols = [c1, c2] as const;
  for (const c of carols) {
    await c.waitFor(
      (f) => f.type === "presence" && f.userId === bob.userId && f.online,
      timing.ms(10_000),
      "bob online",
    );
  }

  // --- Every cache learns Carol: she writes, types, reads, syncs and reads history through both gateways.
  const own1 = await commit(c1, msg(id, "carol via gw-1"));
  const own2 = await commit(c2, msg(id, "carol via gw-2"));
  for (const s of [a, b, c1, c2]) await entryAt(s, id, own2.seq);
  for (const c of carols) {
    expect(await request(c, { type: "typing", conversationId: id })).toBeUndefined();
    await a.waitFor((f) => f.type === "typing" && f.conversationId === id && f.userId === carol.userId);
    expect(await request(c, { type: "read", conversationId: id, seq: c === c1 ? own1.seq : own2.seq })).toBeUndefined();
    expect(await request(c, { type: "sync", cursors: [{ conversationId: id, afterSeq: 0 }] })).toMatchObject({
      type: "synced",
    });
  }
  await a.waitFor((f) => f.type === "read" && f.userId === carol.userId && f.seq === own2.seq);
  for (const i of [0, 1]) {
    expect((await fullHistory(suite.gw(i), carol.token, id)).entries).toHaveLength(2);
    expect((await chatList(suite.gw(i), carol)).map((x) => x.conversationId)).toContain(id);
  }
  // Alice's and Bob's gateways route typing and receipts to her: both reach both of her sockets.
  expect(await request(a, { type: "typing", conversationId: id })).toBeUndefined();
  expect(await request(b, { type: "typing", conversationId: id })).toBeUndefined();
  expect(await request(b, { type: "read", conversationId: id, seq: own2.seq })).toBeUndefined();
  for (const c of carols) {
    for (const who of [alice, bob]) {
      await c.waitFor((f) => f.type === "typing" && f.conversationId === id && f.userId === who.userId);
    }
    await c.waitFor((f) => f.type === "read" && f.conversationId === id && f.userId === bob.userId);
  }

  // --- The removal. Each of Carol's sockets, the moment the event reaches it, tries everything on its gateway.
  const removal = {
    type: "removeMember",
    conversationId: id,
    clientMessageId: cmid("rm"),
    userId: carol.userId,
  };
  const matrix = carols.map(async (c, i) => {
    const event = await c.waitFor(
      (f) => isEntry(f, id) && f.type === "event" && f.kind === "remove",
      timing.ms(15_000),
      "the remove event",
    );
    const eventAt = Date.now();
    const frames = everyFrame(id, i === 0 ? own1.seq : own2.seq, event.seq as number, dave, bob);
    const [ex, history, list, presence] = await Promise.all([
      exchange(c, frames),
      api(suite.gw(i), "GET", `/api/conversations/${encodeURIComponent(id)}/messages`, undefined, carol.token),
      chatList(suite.gw(i), carol),
      api(suite.gw(i), "GET", `/api/presence?userIds=${alice.userId},${bob.userId}`, undefined, carol.token),
    ]);
    const answeredIn = Date.now() - eventAt;
    console.log(`gw-${i + 1}: ${frames.length} frames and 3 routes answered ${answeredIn} ms after the remove event`);
    return { c, i, event, ex, frames, history, list, presence, index: c.frames.indexOf(event) };
  });
  const all = Promise.all(matrix);
  // Handled below; this keeps a failure before then from being an unhandled rejection.
  all.catch(() => undefined);
  const removed = await commit(a, removal);
  expect(removed).toMatchObject({ type: "event", kind: "remove", userId: carol.userId, senderId: alice.userId });
  const results = await all;

  // One comparison for both gateways, so a failure shows everything each answered.
  type Result = (typeof results)[number];
  const got = (r: Result) => ({
    gateway: `gw-${r.i + 1}`,
    event: { kind: r.event.kind, seq: r.event.seq, userId: r.event.userId },
    answers: r.frames.map((f, j) => {
      const a = r.ex.answer(j);
      return `${f.type}: ${a === undefined ? "no answer (taken)" : a.type === "error" ? a.code : a.type}`;
    }),
    // Nothing taken: no `accepted`, and a `synced` (a sync answers one even with no cursor left) names no cursor here.
    taken: r.ex.frames
      .filter(
        (f) =>
          f.type === "accepted" ||
          (f.type === "synced" && f.cursors.some((x: { conversationId: string }) => x.conversationId === id)),
      )
      .map((f) => JSON.stringify(f)),
    history: `${r.history.status} ${r.history.body?.error?.code}`,
    chatList: r.list.map((x) => x.conversationId),
    // Bob shares nothing with her any more; Alice still has the direct chat.
    presence: `${r.presence.status} ${r.presence.body?.presence?.map((p: { userId: string }) => p.userId).join(",")}`,
  });
  const want = (r: Result) => ({
    gateway: `gw-${r.i + 1}`,
    event: { kind: "remove", seq: removed.seq, userId: carol.userId },
    answers: r.frames.map((f) => `${f.type}: NOT_MEMBER`),
    taken: [],
    history: "403 NOT_MEMBER",
    chatList: [direct],
    presence: `200 ${alice.userId}`,
  });
  expect(results.map(got)).toEqual(results.map(want));
  for (const r of results) {
    for (const [j, f] of r.frames.entries()) {
      expect(r.ex.answer(j)!.ref).toEqual({
        type: f.type,
        conversationId: id,
        ...("clientMessageId" in f ? { clientMessageId: f.clientMessageId } : {}),
      });
    }
  }

  // --- The persister refuses an entry of hers that was queued after the removal.
  const { sqs, destroy } = awsClients(stack.aws, stack.provisioned.tableNames);
  try {
    const late: InboundMessage = {
      v: 1,
      conversationId: id,
      senderId: carol.userId,
      clientMessageId: cmid("queued"),
      body: "queued just after the removal",
      sentAt: Date.now(),
    };
    const sent = await sqs.send(
      new SendMessageCommand({
        QueueUrl: stack.provisioned.queueUrls.inbound,
        MessageBody: encodeQueueBody(late),
        MessageGroupId: id,
        MessageDeduplicationId: inboundDeduplicationId(late),
      }),
    );

    // --- Nothing of the conversation reaches her after the removal: messages, typing from both gateways,
    // receipts; and no presence of Bob. Fresh sockets for Alice and Bob (typing is throttled per socket).
    const a2 = await suite.connect(0, alice, "alice-2@gw-1");
    const b2 = await suite.connect(1, bob, "bob-2@gw-2");
    const after = await commit(a, msg(id, "just the three of us... two of us"));
    expect(after.seq).toBe(removed.seq + 1); // her queued entry took no seq
    await entryAt(b, id, after.seq);
    expect(await request(a2, { type: "typing", conversationId: id })).toBeUndefined();
    expect(await request(b2, { type: "typing", conversationId: id })).toBeUndefined();
    expect(await request(b2, { type: "read", conversationId: id, seq: after.seq })).toBeUndefined();
    await b.waitFor((f) => f.type === "typing" && f.conversationId === id && f.userId === alice.userId);
    await a.waitFor((f) => f.type === "typing" && f.conversationId === id && f.userId === bob.userId);
    await a.waitFor(
      (f) => f.type === "read" && f.conversationId === id && f.userId === bob.userId && f.seq === after.seq,
    );
    const bobAway = a.next((f) => f.type === "presence" && f.userId === bob.userId && !f.online, timing.ms(15_000));
    await Promise.all([b.close(), b2.close()]);
    await bobAway;
    // The barrier: sent after all of the above, it reaches both of her sockets.
    const hello = await commit(a, msg(direct, "are you there?"));
    for (const c of carols) await entryAt(c, direct, hello.seq);
    for (const r of results) {
      expect([`gw-${r.i + 1}`, liveAfter(r.c, r.index, id)]).toEqual([`gw-${r.i + 1}`, []]);
      const bobsPresence = r.c.frames
        .slice(r.index + 1)
        .filter((f) => f.type === "presence" && f.userId === bob.userId);
      expect([`gw-${r.i + 1}`, bobsPresence]).toEqual([`gw-${r.i + 1}`, []]);
    }

    // Her queued entry: dead-lettered, logged as poison with the reason, never stored.
    const dlq = stack.provisioned.dlqUrls.inbound;
    await waitUntil(async () => (await queueCounts(sqs, dlq)).total >= 1, {
      timeoutMs: timing.ms(30_000),
      what: "carol's queued entry in the inbound DLQ",
    });
    const dead = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: dlq, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    expect((dead.Messages ?? []).map((m) => m.MessageId)).toContain(sent.MessageId);
    const logged = stack
      .runner!.output()
      .split("\n")
      .filter((l) => l.includes(sent.MessageId!))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logged.length).toBeGreaterThan(0);
    expect(logged[0]).toMatchObject({ poison: true, group: id });
    expect(String(logged[0]!.reason)).toMatch(/not a member/i);
    console.log(`the persister on carol's queued entry: ${JSON.stringify(logged[0])}`);
    const items = await messageItems(stack.aws, id);
    expect(items.filter((m) => m.senderId === carol.userId).map((m) => m.seq)).toEqual([own1.seq, own2.seq]);
    expect(JSON.stringify(items)).not.toContain(late.clientMessageId);
    // Nothing she tried after the removal was stored either.
    const h = await fullHistory(suite.gw(0), alice.token, id);
    expect(h.entries.map((e) => e.seq)).toEqual([own1.seq, own2.seq, removed.seq, after.seq]);
    expect(h.entries.map((e) => e.senderId)).toEqual([carol.userId, carol.userId, alice.userId, alice.userId]);
  } finally {
    destroy();
  }
});
