/**
 * The persister on every kind of log entry, against the emulators: each change applied to its target once
 * (a redelivery or a crash between storing and applying repeats nothing), the rules enforced at the entry's
 * place in the order (refused → poison with the code), and a stale conversation cache never admitting a removed
 * member.
 */
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import {
  notificationSchema,
  type InboundEntry,
  type Notification,
  type StoredEntry,
  type StoredMessage,
} from "../../runtime/contracts";
import { persistBatch, type CachedConversation, type PersisterDeps } from "../../runtime/persister/persist-batch";
import type { SqsEvent, SqsRecord } from "../../runtime/persister/sqs-event";
import { storeMessageOnce } from "../../runtime/persister/store-message";
import { getConversation } from "../../runtime/store/conversations";
import { listMemberships } from "../../runtime/store/memberships";
import { getMessage, pageMessages } from "../../runtime/store/messages";
import { drainQueue, startEmulated, type Emulated } from "../support/emulated";
import { createGroups } from "../support/pipeline";
import { sqsRecord } from "../support/sqs-record";

let e: Emulated;
beforeAll(async () => {
  e = await startEmulated();
});
afterAll(() => e.close());

const log = { warn: jest.fn(), error: jest.fn() };
let clock = 1_700_000_000_000;

function deps(extra: Partial<PersisterDeps> = {}): PersisterDeps {
  return {
    db: { ddb: e.ddb, tables: e.provisioned.tableNames },
    sqs: e.sqs,
    notifyQueueUrl: e.provisioned.queueUrls.notify,
    now: () => ++clock,
    log,
    ...extra,
  };
}

async function group(members = ["alice", "bob", "carol"]): Promise<string> {
  return (await createGroups(e.db, 1, members))[0]!;
}

let n = 0;
type Payload = Record<string, unknown> & { kind?: string };
function entry(conversationId: string, senderId: string, payload: Payload = {}): InboundEntry {
  return {
    v: 1,
    conversationId,
    senderId,
    clientMessageId: `c${++n}`,
    sentAt: clock,
    ...(payload.kind ? {} : { body: `body ${n}` }),
    ...payload,
  } as InboundEntry;
}

const record = (body: InboundEntry): SqsRecord => sqsRecord(body, body.conversationId, { sentAt: clock });
const batch = (...records: SqsRecord[]): SqsEvent => ({ Records: records });
const again = (r: SqsRecord): SqsRecord => ({
  ...r,
  attributes: { ...r.attributes, ApproximateReceiveCount: String(Number(r.attributes.ApproximateReceiveCount) + 1) },
});

async function persist(d: PersisterDeps, ...entries: InboundEntry[]) {
  return persistBatch(batch(...entries.map(record)), d);
}

async function log_(conversationId: string): Promise<StoredEntry[]> {
  return (await pageMessages(e.db, conversationId, { after: 0, limit: 100 })).messages;
}

async function rawItem(conversationId: string, seq: number) {
  const out = await e.ddb.send(
    new GetCommand({ TableName: e.provisioned.tableNames.messages, Key: { conversationId, seq } }),
  );
  return out.Item as Record<string, unknown> | undefined;
}

async function notifications(): Promise<Notification[]> {
  return (await drainQueue(e.sqs, e.provisioned.queueUrls.notify)).map(
    (b) => notificationSchema.parse(JSON.parse(b)) as Notification,
  );
}

beforeEach(async () => {
  await notifications();
  jest.clearAllMocks();
});

test("an edit replaces the body once, keeps its own body in the log, and moves the chat list preview", async () => {
  const c = await group();
  const d = deps();
  await persist(d, entry(c, "alice", { body: "helo" }));
  const edit = entry(c, "alice", { kind: "edit", target: 1, body: "hello" });
  expect((await persist(d, edit)).batchItemFailures).toEqual([]);
  // Redelivered (say the notification send failed): applied once, notified again.
  expect((await persistBatch(batch(again(record(edit))), d)).batchItemFailures).toEqual([]);
  const [m, e2] = await log_(c);
  expect(m).toMatchObject({ seq: 1, body: "hello", rev: 2, edits: [2] });
  expect((m as StoredMessage).editedAt).toEqual(expect.any(Number));
  expect(e2).toMatchObject({ seq: 2, kind: "edit", target: 1, body: "hello" });
  const conv = await getConversation(e.db, c, true);
  expect(conv).toMatchObject({ lastSeq: 2, lastMessageSeq: 1, lastPreview: "hello" });
  const sent = await notifications();
  expect(sent.map((x) => [x.message.seq, x.message.kind ?? "message"])).toEqual([
    [1, "message"],
    [2, "edit"],
    [2, "edit"],
  ]);
});

test("a delete erases the message's body and its edits' bodies from the table; a reply to it shows deleted", async () => {
  const c = await group();
  const d = deps();
  await persist(d, entry(c, "alice", { body: "secret plan" }), entry(c, "bob", { body: "what?", replyTo: 1 }));
  await persist(d, entry(c, "alice", { kind: "edit", target: 1, body: "secret plan v2" }));
  await persist(d, entry(c, "alice", { kind: "delete", target: 1 }));
  const items = await Promise.all([1, 2, 3, 4].map((s) => rawItem(c, s)));
  expect(items[0]).toMatchObject({ body: "", deleted: true, rev: 4 });
  expect(items[0]).not.toHaveProperty("reactions");
  expect(items[2]).toMatchObject({ kind: "edit", body: "" });
  expect(JSON.stringify(items)).not.toMatch(/secret/);
  // The reply stores only the quote's seq and sender; reading it shows the quote deleted.
  expect(items[1]!.replyTo).toEqual({ seq: 1, senderId: "alice" });
  const reply = (await log_(c))[1] as StoredMessage;
  expect(reply.replyTo).toEqual({ seq: 1, senderId: "alice", deleted: true });
  expect(await getConversation(e.db, c, true)).toMatchObject({ lastMessageSeq: 2, lastPreview: "what?" });
});

test("the live notification of a reply carries the quoted message's preview", async () => {
  const c = await group();
  await persist(deps(), entry(c, "alice", { body: "the original" }), entry(c, "bob", { body: "yes", replyTo: 1 }));
  const reply = (await notifications()).find((x) => x.message.seq === 2)!.message as StoredMessage;
  expect(reply.replyTo).toEqual({ seq: 1, senderId: "alice", preview: "the original" });
  // The notification is the stored copy (its storedAt too), with the quote's preview added.
  expect({ ...reply, replyTo: { seq: 1, senderId: "alice" } }).toEqual(await rawItem(c, 2));
});

test("reactions: on and off are set operations per user; a redelivered toggle changes nothing", async () => {
  const c = await group();
  const d = deps();
  await persist(d, entry(c, "alice"));
  const bobOn = entry(c, "bob", { kind: "react", target: 1, emoji: "👍", on: true });
  await persist(d, bobOn, entry(c, "carol", { kind: "react", target: 1, emoji: "👍", on: true }));
  await persist(d, entry(c, "bob", { kind: "react", target: 1, emoji: "👍", on: true })); // on twice: still one
  await persist(d, entry(c, "alice", { kind: "react", target: 1, emoji: "🎉", on: true }));
  expect(await rawItem(c, 1)).toMatchObject({ reactions: { "👍": ["bob", "carol"], "🎉": ["alice"] }, rev: 5 });
  await persist(d, entry(c, "carol", { kind: "react", target: 1, emoji: "👍", on: false }));
  await persistBatch(batch(again(record(bobOn))), d); // an old toggle redelivered: already applied
  expect((await rawItem(c, 1))!.reactions).toEqual({ "👍": ["bob"], "🎉": ["alice"] });
});

test("a crash between storing an entry and applying it: the redelivery applies it", async () => {
  const c = await group();
  const d = deps();
  await persist(d, entry(c, "alice", { body: "v1" }));
  const edit = entry(c, "alice", { kind: "edit", target: 1, body: "v2" });
  await storeMessageOnce(d.db, edit, clock); // stored, never applied (the process died here)
  expect(await rawItem(c, 1)).toMatchObject({ body: "v1" });
  expect((await persistBatch(batch(again(record(edit))), d)).batchItemFailures).toEqual([]);
  expect(await rawItem(c, 1)).toMatchObject({ body: "v2", rev: 2, edits: [2] });
});

test("the rules at the entry's place in the order: refused entries are poison with their code, nothing stored", async () => {
  const c = await group();
  const d = deps({ editWindowMs: 60_000 });
  await persist(d, entry(c, "alice", { body: "mine" }));
  const bobEdits = entry(c, "bob", { kind: "edit", target: 1, body: "hijacked" });
  const unknown = entry(c, "alice", { kind: "delete", target: 99 });
  const late = { ...entry(c, "alice", { kind: "edit", target: 1, body: "late" }), sentAt: clock + 120_000 };
  const bobRemoves = entry(c, "bob", { kind: "remove", userId: "carol" });
  const res = await persist(d, bobEdits, unknown, late, bobRemoves);
  expect(res.batchItemFailures).toHaveLength(4);
  const reasons = log.warn.mock.calls.map(([fields]) => (fields as { reason: string }).reason);
  expect(reasons).toEqual([
    expect.stringMatching(/^FORBIDDEN/),
    expect.stringMatching(/^NOT_FOUND/),
    expect.stringMatching(/^EDIT_WINDOW_CLOSED/),
    expect.stringMatching(/^FORBIDDEN/),
  ]);
  expect((await log_(c)).map((x) => x.seq)).toEqual([1]);
  expect(await rawItem(c, 1)).toMatchObject({ body: "mine" });
});

test("membership: a removed member's later messages are poison; rows follow; the removed member is told", async () => {
  const c = await group();
  const d = deps();
  await persist(d, entry(c, "carol", { body: "hi" }));
  const res = await persist(
    d,
    entry(c, "alice", { kind: "remove", userId: "carol" }),
    entry(c, "carol", { body: "am I still here?" }),
    entry(c, "alice", { kind: "add", userIds: ["dave"] }),
    entry(c, "bob", { kind: "rename", title: "Renamed" }),
    entry(c, "bob", { kind: "leave" }),
  );
  expect(res.batchItemFailures).toHaveLength(1);
  expect(log.warn.mock.calls[0]![0]).toMatchObject({ reason: expect.stringMatching(/^NOT_MEMBER/) });
  expect((await log_(c)).map((x) => [x.seq, x.kind ?? "message"])).toEqual([
    [1, "message"],
    [2, "remove"],
    [3, "add"],
    [4, "rename"],
    [5, "leave"],
  ]);
  expect(await getConversation(e.db, c, true)).toMatchObject({
    memberIds: ["alice", "dave"],
    title: "Renamed",
    rev: 5,
  });
  expect((await listMemberships(e.db, "carol")).map((m) => m.conversationId)).not.toContain(c);
  expect((await listMemberships(e.db, "dave")).find((m) => m.conversationId === c)).toMatchObject({ lastReadSeq: 3 });
  const byseq = new Map((await notifications()).map((x) => [x.message.seq, x]));
  expect(byseq.get(2)).toMatchObject({ memberIds: ["alice", "bob", "carol"], members: ["alice", "bob"] });
  expect(byseq.get(3)).toMatchObject({ memberIds: ["alice", "bob", "dave"], members: ["alice", "bob", "dave"] });
  expect(byseq.get(5)!.memberIds.sort()).toEqual(["alice", "bob", "dave"]);
});

test("a redelivered leave is not poison: it was stored and applied, and is notified again", async () => {
  const c = await group();
  const d = deps();
  const leave = entry(c, "carol", { kind: "leave" });
  await persist(d, leave);
  const res = await persistBatch(batch(again(record(leave))), d);
  expect(res.batchItemFailures).toEqual([]);
  expect((await notifications()).map((x) => x.message.seq)).toEqual([1, 1]);
  expect((await getConversation(e.db, c, true))!.memberIds).toEqual(["alice", "bob"]);
});

test("a stale conversation cache never admits a member another process removed since", async () => {
  const c = await group();
  const lastSeqCache = new Map<string, number>();
  const conversationCache = new Map<string, CachedConversation>();
  const a = deps({ lastSeqCache, conversationCache });
  await persist(a, entry(c, "carol", { body: "one" })); // a caches the conversation as of seq 1, Carol a member
  expect(conversationCache.get(c)).toMatchObject({ asOfSeq: 1 });
  await persist(deps(), entry(c, "alice", { kind: "remove", userId: "carol" })); // another instance, seq 2
  const res = await persist(a, entry(c, "carol", { body: "two" }));
  expect(res.batchItemFailures).toHaveLength(1);
  expect(log.warn.mock.calls.at(-1)![0]).toMatchObject({ reason: expect.stringMatching(/^NOT_MEMBER/) });
  expect((await log_(c)).map((x) => x.seq)).toEqual([1, 2]);
  // While the hint holds, the cache answers without a read: Alice's next message goes in at seq 3.
  await persist(deps({ lastSeqCache, conversationCache }), entry(c, "alice", { body: "three" }));
  expect(await getMessage(e.db, c, 3)).toMatchObject({ senderId: "alice" });
});

test("a stale conversation cache never refuses a member another process added since", async () => {
  const c = await group(["alice", "bob"]);
  const lastSeqCache = new Map<string, number>();
  const conversationCache = new Map<string, CachedConversation>();
  const a = deps({ lastSeqCache, conversationCache });
  await persist(a, entry(c, "alice", { body: "one" })); // cached as of seq 1: alice and bob
  await persist(deps(), entry(c, "bob", { kind: "add", userIds: ["dave"] })); // another instance, seq 2
  const res = await persist(a, entry(c, "dave", { body: "hello, I am new" }));
  expect(res.batchItemFailures).toEqual([]);
  expect(await getMessage(e.db, c, 3)).toMatchObject({ senderId: "dave", body: "hello, I am new" });
  expect(conversationCache.get(c)).toMatchObject({ asOfSeq: 3, conversation: { memberIds: ["alice", "bob", "dave"] } });
});
