/**
 * The member cache (delivery/directory.ts#MemberCache): an answer serves MEMBER_CACHE_TTL_MS after the read;
 * a notification naming the same members renews it from that entry's storedAt (so a busy conversation is read
 * once, not once a minute), different members drop it, and nothing renews an answer past
 * MEMBER_CACHE_MAX_AGE_MS after its read or past MEMBER_CACHE_TTL_MS after an entry stored before a change.
 * The session's catch-up read (readMany) seeds it, unless an invalidation came in meanwhile.
 */
import { MEMBER_CACHE_MAX_AGE_MS, MEMBER_CACHE_TTL_MS, MemberCache } from "../../../runtime/gateway/delivery/directory";
import { fakeContext, fakeDb } from "./fakes";

const CID = "g:0123456789abcdef";

function setup(initialMembers: string[]) {
  let now = 1_000_000;
  let members = initialMembers;
  let lastSeq = 3;
  let beforeBatchAnswer: () => void = () => {};
  const item = () => ({
    conversationId: CID,
    kind: "group",
    memberIds: members,
    lastSeq,
    createdAt: 0,
    createdBy: "u_a",
  });
  const { ddb, sent } = fakeDb((cmd) => {
    if (cmd.constructor.name === "GetCommand") return { Item: item() };
    if (cmd.constructor.name === "BatchGetCommand") {
      beforeBatchAnswer();
      return { Responses: { "t-conversations": [item()] } };
    }
    return {};
  });
  const cache = new MemberCache({ ...fakeContext(ddb), now: () => now });
  return {
    cache,
    reads: () => sent.filter((c) => c.name === "GetCommand").length,
    now: () => now,
    advance: (ms: number) => (now += ms),
    setMembers: (m: string[]) => (members = m),
    setLastSeq: (s: number) => (lastSeq = s),
    duringBatchRead: (f: () => void) => (beforeBatchAnswer = f),
  };
}

test("an answer serves for the TTL after the read, then the conversation is read again", async () => {
  const t = setup(["u_a", "u_b"]);
  expect(await t.cache.conversationFor("u_a", CID)).toBeDefined();
  t.advance(MEMBER_CACHE_TTL_MS - 1);
  await t.cache.conversationFor("u_a", CID);
  expect(t.reads()).toBe(1);
  t.advance(2);
  await t.cache.conversationFor("u_a", CID);
  expect(t.reads()).toBe(2);
});

test("a notification with the same members renews the answer from its storedAt, and carries its seq", async () => {
  const t = setup(["u_a", "u_b"]);
  await t.cache.conversationFor("u_a", CID);
  t.advance(50_000);
  t.cache.confirm(CID, 9, t.now(), ["u_b", "u_a"]);
  t.advance(50_000); // 100 s after the read, 50 s after the confirming entry
  const c = await t.cache.conversation(CID);
  expect(t.reads()).toBe(1);
  expect(c?.lastSeq).toBe(9);
  t.advance(MEMBER_CACHE_TTL_MS - 50_000);
  await t.cache.conversation(CID);
  expect(t.reads()).toBe(2);
});

test("a notification with other members drops the answer: a removed member is refused after one read", async () => {
  const t = setup(["u_a", "u_b", "u_c"]);
  expect(await t.cache.conversationFor("u_c", CID)).toBeDefined();
  t.setMembers(["u_a", "u_b"]);
  t.cache.confirm(CID, 5, t.now(), ["u_a", "u_b"]);
  expect(await t.cache.conversationFor("u_c", CID)).toBeUndefined();
  expect(t.reads()).toBe(2);
});

test("an entry stored before the read does not extend it; renewals stop at the maximum age", async () => {
  const t = setup(["u_a", "u_b"]);
  await t.cache.conversation(CID);
  t.cache.confirm(CID, 2, t.now() - 10_000, ["u_a", "u_b"]);
  t.advance(MEMBER_CACHE_TTL_MS);
  await t.cache.conversation(CID);
  expect(t.reads()).toBe(2);

  const readAt = t.now();
  for (let at = readAt; at < readAt + MEMBER_CACHE_MAX_AGE_MS + MEMBER_CACHE_TTL_MS; at += 30_000) {
    t.advance(at - t.now());
    t.cache.confirm(CID, 10 + (at - readAt) / 1000, at, ["u_a", "u_b"]);
    await t.cache.conversation(CID);
  }
  // The first read, the one after the unextended TTL, and one when the maximum age ran out.
  expect(t.reads()).toBe(3);
});

test("a read that started before a dropping notification does not cache its answer", async () => {
  const t = setup(["u_a", "u_b"]);
  await t.cache.conversation(CID);
  t.advance(MEMBER_CACHE_TTL_MS); // expired: the next question reads
  const reading = t.cache.conversation(CID);
  t.cache.forget([CID]);
  await reading;
  await t.cache.conversation(CID);
  expect(t.reads()).toBe(3);
});

test("a confirmation of a conversation not cached reads nothing and caches nothing", async () => {
  const t = setup(["u_a", "u_b"]);
  t.cache.confirm(CID, 4, t.now(), ["u_a", "u_b"]);
  expect(t.reads()).toBe(0);
  t.setLastSeq(4);
  expect((await t.cache.conversation(CID))?.lastSeq).toBe(4);
  expect(t.reads()).toBe(1);
});

test("the catch-up's consistent read of the user's conversations is cached: the first send reads nothing", async () => {
  const t = setup(["u_a", "u_b"]);
  expect((await t.cache.readMany([CID])).map((c) => c.conversationId)).toEqual([CID]);
  expect(await t.cache.conversationFor("u_a", CID)).toBeDefined();
  expect(t.reads()).toBe(0);
});

test("a membership change during that read keeps its answer out of the cache", async () => {
  const t = setup(["u_a", "u_b", "u_c"]);
  t.duringBatchRead(() => t.cache.forget([CID]));
  await t.cache.readMany([CID]);
  t.setMembers(["u_a", "u_b"]);
  expect(await t.cache.conversationFor("u_c", CID)).toBeUndefined();
  expect(t.reads()).toBe(1);
});
