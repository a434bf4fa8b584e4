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
import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { env, type InboundMessage } from "../../runtime/contracts";
import { api, type Client, type Frame, type HttpResult } from "../support/clients";
import {
  chatList,
  commit,
  createDirect,
  createGroup,
  enqueueRaw,
  entryAt,
  exchange,
  fullHistory,
  isEntry,
  messageItems,
  persisterLogFor,
  request,
  type Exchange,
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

/** What one gateway answered a user who is out of `id`, tried the moment the event saying so reached `c`. */
interface Attempt {
  readonly c: Client;
  /** Gateway index. */
  readonly i: number;
  readonly event: Frame;
  /** Where the event is in c.frames. */
  readonly index: number;
  readonly frames: Record<string, unknown>[];
  readonly ex: Exchange;
  readonly history: HttpResult;
  readonly list: { conversationId: string }[];
  readonly presence: HttpResult;
}

/**
 * Waits for the event matching `isOut` on `c` (on gateway `i`), then at once sends `frames` on it and calls the
 * history, chat list and presence routes of that gateway as `user`.
 */
async function tryEverything(
  c: Client,
  i: number,
  user: TestUser,
  id: string,
  isOut: (f: Frame) => boolean,
  frames: (event: Frame) => Record<string, unknown>[],
  presenceOf: readonly TestUser[],
): Promise<Attempt> {
  const event = await c.waitFor((f) => isEntry(f, id) && f.type === "event" && isOut(f), timing.ms(15_000), "event");
  const eventAt = Date.now();
  const sent = frames(event);
  const [ex, history, list, presence] = await Promise.all([
    exchange(c, sent),
    api(suite.gw(i), "GET", `/api/conversations/${encodeURIComponent(id)}/messages`, undefined, user.token),
    chatList(suite.gw(i), user),
    api(
      suite.gw(i),
      "GET",
      `/api/presence?userIds=${presenceOf.map((u) => u.userId).join(",")}`,
      undefined,
      user.token,
    ),
  ]);
  console.log(
    `gw-${i + 1}: ${sent.length} frames and 3 routes answered ${Date.now() - eventAt} ms after the ${event.kind} event`,
  );
  return { c, i, event, index: c.frames.indexOf(event), frames: sent, ex, history, list, presence };
}

/** An attempt as one comparable object, so a failure shows everything a gateway answered. */
const summary = (r: Attempt, id: string) => ({
  gateway: `gw-${r.i + 1}`,
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
  presence: `${r.presence.status} ${r.presence.body?.presence?.map((p: { userId: string }) => p.userId).join(",")}`,
});

/** What every attempt must come to: each frame NOT_MEMBER (its ref naming it), history 403, the chat list without it. */
function expectRefusedEverywhere(attempts: Attempt[], id: string, chatListAfter: string[], presenceAfter: TestUser[]) {
  expect(attempts.map((r) => summary(r, id))).toEqual(
    attempts.map((r) => ({
      gateway: `gw-${r.i + 1}`,
      answers: r.frames.map((f) => `${f.type}: NOT_MEMBER`),
      taken: [],
      history: "403 NOT_MEMBER",
      chatList: chatListAfter,
      presence: `200 ${presenceAfter.map((u) => u.userId).join(",")}`,
    })),
  );
  for (const r of attempts) {
    for (const [j, f] of r.frames.entries()) {
      expect(r.ex.answer(j)!.ref).toEqual({
        type: f.type,
        conversationId: id,
        ...("clientMessageId" in f ? { clientMessageId: f.clientMessageId } : {}),
      });
    }
  }
}

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
  const matrix = carols.map((c, i) =>
    tryEverything(
      c,
      i,
      carol,
      id,
      (f) => f.kind === "remove" && f.userId === carol.userId,
      (event) => everyFrame(id, i === 0 ? own1.seq : own2.seq, event.seq as number, dave, bob),
      [alice, bob],
    ),
  );
  const all = Promise.all(matrix);
  // Handled below; this keeps a failure before then from being an unhandled rejection.
  all.catch(() => undefined);
  const removed = await commit(a, removal);
  expect(removed).toMatchObject({ type: "event", kind: "remove", userId: carol.userId, senderId: alice.userId });
  const results = await all;

  for (const r of results) expect(r.event).toMatchObject({ seq: removed.seq, senderId: alice.userId });
  // Bob shares nothing with her any more; Alice still has the direct chat.
  expectRefusedEverywhere(results, id, [direct], [alice]);

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
    const lateId = await enqueueRaw(stack, late);

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
    expect((dead.Messages ?? []).map((m) => m.MessageId)).toContain(lateId);
    const logged = await persisterLogFor(stack, lateId);
    expect(logged).toMatchObject({
      poison: true,
      group: id,
      reason: expect.stringMatching(/^NOT_MEMBER: .*not a member/),
    });
    console.log(`the persister on carol's queued entry: ${JSON.stringify(logged)}`);
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

test("a member who left is refused every frame kind and route on both gateways at once", async () => {
  const { stack } = suite;
  const [alice, bob, dave, erin] = (await bulkUsers(stack, "lv", 4)) as [TestUser, TestUser, TestUser, TestUser];
  const id = await createGroup(suite.gw(1), alice, [bob, dave], "dave leaves");
  const d1 = await suite.connect(0, dave, "dave@gw-1");
  const d2 = await suite.connect(1, dave, "dave@gw-2");
  const a = await suite.connect(0, alice, "alice@gw-1");
  // Both gateways cache the conversation with Dave in it.
  const own1 = await commit(d1, msg(id, "dave via gw-1"));
  const own2 = await commit(d2, msg(id, "dave via gw-2"));
  await entryAt(a, id, own2.seq);
  for (const i of [0, 1]) expect((await fullHistory(suite.gw(i), dave.token, id)).entries).toHaveLength(2);

  const attempts = [d1, d2].map((c, i) =>
    tryEverything(
      c,
      i,
      dave,
      id,
      (f) => f.kind === "leave" && f.senderId === dave.userId,
      (event) => everyFrame(id, i === 0 ? own1.seq : own2.seq, event.seq as number, erin, bob),
      [alice, bob],
    ),
  );
  const all = Promise.all(attempts);
  all.catch(() => undefined);
  // He leaves through gw-2; the socket on gw-1 is told too.
  const left = await commit(d2, { type: "leave", conversationId: id, clientMessageId: cmid("l") });
  expect(await entryAt(a, id, left.seq)).toMatchObject({ kind: "leave", senderId: dave.userId });
  expectRefusedEverywhere(await all, id, [], []);
  const h = await fullHistory(suite.gw(0), alice.token, id);
  expect(h.entries.map((e) => e.seq)).toEqual([own1.seq, own2.seq, left.seq]);
});
