import { randomUUID } from "node:crypto";
import { dedupeKeyOf, notificationSchema, type InboundMessage, type Notification } from "../../runtime/contracts";
import { persistBatch, type PersisterDeps } from "../../runtime/persister/persist-batch";
import type { SqsEvent, SqsRecord } from "../../runtime/persister/sqs-event";
import { createConversation, getConversation } from "../../runtime/store/conversations";
import { claimDedupe } from "../../runtime/store/dedupe";
import { pageMessages } from "../../runtime/store/messages";
import { drainQueue, startEmulated, type Emulated } from "../support/emulated";
import { sqsRecord } from "../support/sqs-record";
import { type DocumentClient, type DocumentCommand } from "../../runtime/aws/document-client";

let e: Emulated;
beforeAll(async () => {
  e = await startEmulated();
});
afterAll(() => e.close());

const silent = { warn: jest.fn(), error: jest.fn() };
let clock = 1_700_000_000_000;

function deps(ddb: DocumentClient = e.ddb): PersisterDeps {
  return {
    db: { ddb, tables: e.provisioned.tableNames },
    sqs: e.sqs,
    notifyQueueUrl: e.provisioned.queueUrls.notify,
    now: () => ++clock,
    log: silent,
  };
}

async function newConversation(members = ["alice", "bob"]): Promise<string> {
  const conversationId = `g:${randomUUID().replace(/-/g, "").slice(0, 20)}`;
  await createConversation(e.db, {
    conversationId,
    kind: "group",
    title: "t",
    memberIds: members,
    createdBy: members[0]!,
    createdAt: clock,
  });
  return conversationId;
}

function inbound(conversationId: string, clientMessageId: string, senderId = "alice"): InboundMessage {
  return { v: 1, conversationId, senderId, clientMessageId, body: `body ${clientMessageId}`, sentAt: clock };
}

const record = (body: unknown, group: string, id?: string): SqsRecord => sqsRecord(body, group, { id, sentAt: clock });

const batch = (...records: SqsRecord[]): SqsEvent => ({ Records: records });

/** The same record received once more (after a failure or a crash), as SQS hands it back. */
const redelivered = (r: SqsRecord): SqsRecord => ({
  ...r,
  attributes: { ...r.attributes, ApproximateReceiveCount: String(Number(r.attributes.ApproximateReceiveCount) + 1) },
});

async function stored(conversationId: string) {
  return (await pageMessages(e.db, conversationId, { after: 0, limit: 100 })).messages;
}

async function notifications(): Promise<Notification[]> {
  return (await drainQueue(e.sqs, e.provisioned.queueUrls.notify)).map((b) => notificationSchema.parse(JSON.parse(b)));
}

beforeEach(async () => {
  await notifications(); // start each test with an empty notification queue
  jest.clearAllMocks();
});

test("assigns seq 1..n in queue order, updates the summary and notifies once per message", async () => {
  const c = await newConversation();
  const res = await persistBatch(batch(...["a", "b", "c"].map((id) => record(inbound(c, id), c))), deps());
  expect(res.batchItemFailures).toEqual([]);
  const msgs = await stored(c);
  expect(msgs.map((m) => [m.seq, m.clientMessageId])).toEqual([
    [1, "a"],
    [2, "b"],
    [3, "c"],
  ]);
  const conv = await getConversation(e.db, c, true);
  expect(conv).toMatchObject({ lastSeq: 3, lastPreview: "body c", lastSenderId: "alice" });
  const notes = await notifications();
  expect(notes.map((n) => n.message.seq).sort()).toEqual([1, 2, 3]);
  expect(notes[0]!.memberIds.sort()).toEqual(["alice", "bob"]);
});

test("a resend (same clientMessageId) in the same batch or a later one stores and notifies once", async () => {
  const c = await newConversation();
  const m = inbound(c, "dup");
  const first = await persistBatch(batch(record(m, c), record(m, c), record(inbound(c, "next"), c)), deps());
  expect(first.batchItemFailures).toEqual([]);
  const again = await persistBatch(batch(record(m, c)), deps());
  expect(again.batchItemFailures).toEqual([]);
  expect((await stored(c)).map((x) => [x.seq, x.clientMessageId])).toEqual([
    [1, "dup"],
    [2, "next"],
  ]);
  expect((await notifications()).map((n) => n.message.seq).sort()).toEqual([1, 2]);
});

test("a record that comes back after storing its message notifies again: it may have stopped before notifying", async () => {
  const c = await newConversation();
  const m = record(inbound(c, "back"), c);
  await persistBatch(batch(m), deps());
  const again = await persistBatch(batch(redelivered(m)), deps());
  expect(again.batchItemFailures).toEqual([]);
  expect((await stored(c)).map((x) => x.seq)).toEqual([1]);
  expect((await notifications()).map((n) => n.message.seq)).toEqual([1, 1]);
});

test("the same clientMessageId from two senders is two messages", async () => {
  const c = await newConversation();
  await persistBatch(batch(record(inbound(c, "x", "alice"), c), record(inbound(c, "x", "bob"), c)), deps());
  expect((await stored(c)).map((m) => m.senderId)).toEqual(["alice", "bob"]);
});

test("FIFO: after a retryable failure in a group the rest of that group fails; other groups continue", async () => {
  const a = await newConversation();
  const b = await newConversation();
  const a1 = record(inbound(a, "a1"), a);
  const a2 = record(inbound(a, "a2"), a);
  const a3 = record(inbound(a, "a3"), a);
  const b1 = record(inbound(b, "b1"), b);
  const b2 = record(inbound(b, "b2"), b);
  // Fail every write of a2 (its message put is the first write carrying its clientMessageId).
  const flaky = new Proxy(e.ddb, {
    get(target, prop, receiver) {
      if (prop === "send") {
        return (cmd: { input?: { Item?: { clientMessageId?: string } } }) =>
          cmd.input?.Item?.clientMessageId === "a2"
            ? Promise.reject(new Error("throttled"))
            : target.send(cmd as DocumentCommand);
      }
      return Reflect.get(target, prop, receiver);
    },
  });
  const res = await persistBatch(batch(a1, b1, a2, b2, a3), deps(flaky));
  expect(res.batchItemFailures.map((f) => f.itemIdentifier)).toEqual([a2.messageId, a3.messageId]);
  expect((await stored(a)).map((m) => m.clientMessageId)).toEqual(["a1"]);
  expect((await stored(b)).map((m) => m.clientMessageId)).toEqual(["b1", "b2"]);
});

test("a poison record fails alone: the valid messages batched behind it in its group are stored in order", async () => {
  const a = await newConversation();
  const a1 = record(inbound(a, "a1"), a);
  const poison = record({ v: 1, conversationId: a, senderId: "alice" }, a); // never valid
  const a3 = record(inbound(a, "a3"), a);
  const res = await persistBatch(batch(a1, poison, a3), deps());
  expect(res.batchItemFailures.map((f) => f.itemIdentifier)).toEqual([poison.messageId]);
  expect((await stored(a)).map((m) => [m.seq, m.clientMessageId])).toEqual([
    [1, "a1"],
    [2, "a3"],
  ]);
});

test.each([
  ["not JSON", "{oops", /not JSON/],
  ["missing fields", { v: 1 }, /conversationId/],
  [
    "blank body",
    { v: 1, conversationId: "g:abcdefgh12", senderId: "alice", clientMessageId: "m", body: "  ", sentAt: 1 },
    /blank/,
  ],
  [
    "extra key",
    {
      v: 1,
      conversationId: "g:abcdefgh12",
      senderId: "alice",
      clientMessageId: "m",
      body: "x",
      sentAt: 1,
      __proto__x: 1,
    },
    /Unrecognized|unrecognized/,
  ],
])("an invalid body (%s) is reported failed and logged with its reason", async (_name, body, reason) => {
  const r = record(body, "g:abcdefgh12");
  const res = await persistBatch(batch(r), deps());
  expect(res.batchItemFailures).toEqual([{ itemIdentifier: r.messageId }]);
  expect(silent.warn).toHaveBeenCalledWith(
    expect.objectContaining({ poison: true, reason: expect.stringMatching(reason) }),
    expect.any(String),
  );
});

test("a non-member or an unknown conversation is poison", async () => {
  const c = await newConversation();
  const res = await persistBatch(
    batch(record(inbound(c, "m", "mallory"), c), record(inbound("g:doesnotexist1", "m"), "g:doesnotexist1")),
    deps(),
  );
  expect(res.batchItemFailures).toHaveLength(2);
  expect(await stored(c)).toEqual([]);
});

/** A client that "crashes" (throws before sending) on its n-th call, like a process dying mid-batch. */
function crashingOn(n: number): { ddb: DocumentClient; calls: () => number } {
  let calls = 0;
  const ddb = new Proxy(e.ddb, {
    get(target, prop, receiver) {
      if (prop === "send") {
        return (cmd: DocumentCommand) => {
          calls++;
          if (calls === n) return Promise.reject(new Error(`injected crash at call ${n}`));
          return target.send(cmd);
        };
      }
      return Reflect.get(target, prop, receiver);
    },
  });
  return { ddb, calls: () => calls };
}

/** The DynamoDB commands a client sends, as "Command table". */
function recording(): { ddb: DocumentClient; sent: string[] } {
  const sent: string[] = [];
  const ddb = new Proxy(e.ddb, {
    get(target, prop, receiver) {
      if (prop !== "send") return Reflect.get(target, prop, receiver);
      return (cmd: DocumentCommand) => {
        const table = (cmd.input as { TableName?: string }).TableName ?? "";
        sent.push(`${cmd.constructor.name} ${table}`);
        return target.send(cmd);
      };
    },
  });
  return { ddb, sent };
}

test("one summary update per conversation per batch, with its newest message", async () => {
  const c = await newConversation();
  const d = await newConversation();
  const rec = recording();
  const res = await persistBatch(
    batch(...["a", "b", "c"].map((id) => record(inbound(c, id), c)), record(inbound(d, "x"), d)),
    deps(rec.ddb),
  );
  expect(res.batchItemFailures).toEqual([]);
  const updates = rec.sent.filter((x) => x === `UpdateCommand ${e.provisioned.tableNames.conversations}`);
  expect(updates).toHaveLength(2);
  expect(await getConversation(e.db, c, true)).toMatchObject({ lastSeq: 3, lastPreview: "body c" });
  expect(await getConversation(e.db, d, true)).toMatchObject({ lastSeq: 1, lastPreview: "body x" });
  const notes = await notifications();
  expect(notes.map((n) => `${n.message.conversationId === c ? "c" : "d"}${n.message.seq}`).sort()).toEqual([
    "c1",
    "c2",
    "c3",
    "d1",
  ]);
  expect(notes.every((n) => n.memberIds.length === 2)).toBe(true);
});

test("the summary update carries each sender's highest seq: sending implies having read, at no write of its own", async () => {
  const c = await newConversation(["alice", "bob", "carol"]);
  const rec = recording();
  const senders = ["alice", "bob", "alice"];
  await persistBatch(batch(...senders.map((s, i) => record(inbound(c, `m${i}`, s), c))), deps(rec.ddb));
  expect(rec.sent.filter((x) => x.startsWith("UpdateCommand"))).toEqual([
    `UpdateCommand ${e.provisioned.tableNames.conversations}`,
  ]);
  const item = await getConversation(e.db, c, true);
  expect(item).toMatchObject({ lastSeq: 3, "sent#alice": 3, "sent#bob": 2 });
  expect(item!["sent#carol"]).toBeUndefined();
  // The next batch moves only its own senders.
  await persistBatch(batch(record(inbound(c, "m3", "bob"), c)), deps());
  expect(await getConversation(e.db, c, true)).toMatchObject({ lastSeq: 4, "sent#alice": 3, "sent#bob": 4 });
});

test("a crash at any call of a three-message batch of one conversation, then the retry: all stored, summarized, notified", async () => {
  const probe = await newConversation();
  const counter = crashingOn(Number.MAX_SAFE_INTEGER);
  await persistBatch(batch(...["p1", "p2", "p3"].map((id) => record(inbound(probe, id), probe))), deps(counter.ddb));
  const calls = counter.calls();
  await notifications();
  for (let n = 1; n <= calls; n++) {
    const c = await newConversation();
    const records = ["x", "y", "z"].map((id) => record(inbound(c, id), c));
    const crashed = await persistBatch(batch(...records), deps(crashingOn(n).ddb));
    const failedIds = crashed.batchItemFailures.map((f) => f.itemIdentifier);
    expect(failedIds.length).toBeGreaterThan(0);
    // Whatever failed comes back (receive count 2); what succeeded was deleted.
    const back = records.filter((r) => failedIds.includes(r.messageId)).map(redelivered);
    expect((await persistBatch(batch(...back), deps())).batchItemFailures).toEqual([]);
    expect((await stored(c)).map((m) => [m.seq, m.clientMessageId])).toEqual([
      [1, "x"],
      [2, "y"],
      [3, "z"],
    ]);
    expect((await getConversation(e.db, c, true))?.lastSeq).toBe(3);
    const seqs = (await notifications()).filter((x) => x.message.conversationId === c).map((x) => x.message.seq);
    expect(new Set(seqs)).toEqual(new Set([1, 2, 3]));
  }
});

test("a crash between any two writes, then a retry: no gap, no duplicate, one notification", async () => {
  // Count the calls one clean message takes, then crash at each of them in turn.
  const probe = await newConversation();
  await persistBatch(batch(record(inbound(probe, "p1"), probe)), deps());
  const counter = crashingOn(Number.MAX_SAFE_INTEGER);
  await persistBatch(batch(record(inbound(probe, "p2"), probe)), deps(counter.ddb));
  const callsPerMessage = counter.calls();
  expect(callsPerMessage).toBeGreaterThanOrEqual(4);
  await notifications();

  for (let n = 1; n <= callsPerMessage; n++) {
    const c = await newConversation();
    await persistBatch(batch(record(inbound(c, "before"), c)), deps());
    const m = record(inbound(c, "crashy"), c);
    const crashed = await persistBatch(batch(m), deps(crashingOn(n).ddb));
    if (n < callsPerMessage) expect(crashed.batchItemFailures).toEqual([{ itemIdentifier: m.messageId }]);
    const retried = await persistBatch(batch(redelivered(m), record(inbound(c, "after"), c)), deps());
    expect(retried.batchItemFailures).toEqual([]);
    expect((await stored(c)).map((x) => [x.seq, x.clientMessageId])).toEqual([
      [1, "before"],
      [2, "crashy"],
      [3, "after"],
    ]);
    expect((await getConversation(e.db, c, true))?.lastSeq).toBe(3);
    const seqs = (await notifications()).filter((x) => x.message.conversationId === c).map((x) => x.message.seq);
    // A crash before the notification was sent: the retry notifies once, never loses one.
    expect(seqs.sort()).toEqual([1, 2, 3]);
  }
});

test("two concurrent attempts at the same record (visibility timeout shorter than processing) store one copy", async () => {
  for (let round = 0; round < 10; round++) {
    const c = await newConversation();
    const m = record(inbound(c, "race"), c);
    const [x, y] = await Promise.all([persistBatch(batch(m), deps()), persistBatch(batch(m), deps())]);
    expect([...x.batchItemFailures, ...y.batchItemFailures]).toEqual([]);
    const msgs = await stored(c);
    expect(msgs.map((s) => [s.seq, s.clientMessageId])).toEqual([[1, "race"]]);
  }
});

test("the last-seq cache saves a read per message and is safe when stale or after a crashed copy", async () => {
  const c = await newConversation();
  const lastSeqCache = new Map<string, number>();
  const cached = { ...deps(), lastSeqCache };
  await persistBatch(batch(record(inbound(c, "one"), c)), cached);
  expect(lastSeqCache.get(c)).toBe(1);

  // Another instance stores seq 2 and 3 (this cache still says 1), and a crashed attempt leaves "four" at seq 4
  // with its claim but without the summary and notification (a crash right after the message put).
  await persistBatch(batch(record(inbound(c, "two"), c), record(inbound(c, "three"), c)), deps());
  const crashedAfterPut = crashingOn(5); // member get, latest query, dedupe claim, message put → crash on summary
  const four = record(inbound(c, "four"), c);
  await persistBatch(batch(four), deps(crashedAfterPut.ddb));
  expect((await stored(c)).map((m) => m.clientMessageId)).toEqual(["one", "two", "three", "four"]);

  // The retry finds the claim (seq 4) and its copy there: no second copy, whatever the stale hint (1) says;
  // "five" claims the hint's slot 2, loses the put, and its claim moves to the next free slot.
  const res = await persistBatch(batch(redelivered(four), record(inbound(c, "five"), c)), cached);
  expect(res.batchItemFailures).toEqual([]);
  expect((await stored(c)).map((m) => [m.seq, m.clientMessageId])).toEqual([
    [1, "one"],
    [2, "two"],
    [3, "three"],
    [4, "four"],
    [5, "five"],
  ]);
  expect(lastSeqCache.get(c)).toBe(5);
});

test("a claim left pointing at another's message (its record dead-lettered in between) moves on: no gap", async () => {
  const c = await newConversation();
  const ghost = inbound(c, "ghost");
  // The ghost's first record claimed seq 1 and never put it; "other" took seq 1 after the record went to the DLQ.
  expect(await claimDedupe(e.db, dedupeKeyOf(ghost), 1, clock)).toEqual({ claimed: true, seq: 1 });
  await persistBatch(batch(record(inbound(c, "other"), c)), deps());
  // The client resends it later.
  const res = await persistBatch(batch(record(ghost, c)), deps());
  expect(res.batchItemFailures).toEqual([]);
  expect((await stored(c)).map((m) => [m.seq, m.clientMessageId])).toEqual([
    [1, "other"],
    [2, "ghost"],
  ]);
  expect((await notifications()).filter((n) => n.message.conversationId === c).map((n) => n.message.seq)).toEqual([
    1, 2,
  ]);
  // And a resend after that finds it where the claim now points.
  await persistBatch(batch(record(ghost, c)), deps());
  expect((await stored(c)).map((m) => m.seq)).toEqual([1, 2]);
});

type Command = DocumentCommand;

/**
 * A client that holds each matching call until the test releases it, one gate per call, in order: lets a test
 * place another attempt's writes exactly between two of this attempt's calls.
 */
function gated(...matchers: ((cmd: Command) => boolean)[]) {
  const gates = matchers.map((match) => {
    let reach!: () => void;
    let release!: () => void;
    const reached = new Promise<void>((r) => (reach = r));
    const released = new Promise<void>((r) => (release = r));
    return { match, reached, reach, released, release, used: false };
  });
  const ddb = new Proxy(e.ddb, {
    get(target, prop, receiver) {
      if (prop !== "send") return Reflect.get(target, prop, receiver);
      return async (cmd: Command) => {
        const gate = gates.find((g) => !g.used);
        if (gate?.match(cmd)) {
          gate.used = true;
          gate.reach();
          await gate.released;
        }
        return target.send(cmd);
      };
    },
  });
  return { ddb, gates };
}

const isPutTo = (table: string) => (cmd: Command) =>
  cmd.constructor.name === "PutCommand" && (cmd.input as { TableName?: string }).TableName === table;

test("a slow duplicate that loses its slot never leaves a hole, whatever the others store meanwhile", async () => {
  // The interleaving a visibility timeout shorter than processing allows: the slow attempt S at X has read the
  // latest seq, the runner R redelivered the group and stores X, Y; S's put fails, and it rereads the latest.
  // Before the fix S put a second copy of X after Y, R stored Z after that copy, and S, losing the dedupe claim,
  // deleted its copy: a hole in the sequence, below Z.
  const c = await newConversation();
  const tables = e.provisioned.tableNames;
  const x = record(inbound(c, "x"), c);
  const slow = gated(isPutTo(tables.messages), isPutTo(tables.dedupe));
  const s = persistBatch(batch(x), deps(slow.ddb));
  await slow.gates[0]!.reached;

  const r1 = await persistBatch(batch(x, record(inbound(c, "y"), c)), deps());
  expect(r1.batchItemFailures).toEqual([]);
  slow.gates[0]!.release();

  // If S goes on to claim the dedupe record for a copy, let the runner store Z first (the harmful order).
  const sDone = s.then(() => "done" as const);
  if ((await Promise.race([slow.gates[1]!.reached.then(() => "claiming" as const), sDone])) === "claiming") {
    await persistBatch(batch(record(inbound(c, "z"), c)), deps());
    slow.gates[1]!.release();
  } else {
    await persistBatch(batch(record(inbound(c, "z"), c)), deps());
  }
  expect((await s).batchItemFailures).toEqual([]);

  expect((await stored(c)).map((m) => [m.seq, m.clientMessageId])).toEqual([
    [1, "x"],
    [2, "y"],
    [3, "z"],
  ]);
  const seqs = (await notifications()).filter((n) => n.message.conversationId === c).map((n) => n.message.seq);
  expect(seqs.sort()).toEqual([1, 2, 3]);
});

test("a slow duplicate that finds its message stored by another attempt leaves the notification to it", async () => {
  const c = await newConversation();
  const tables = e.provisioned.tableNames;
  const x = record(inbound(c, "x"), c);
  const slow = gated(isPutTo(tables.messages));
  const s = persistBatch(batch(x), deps(slow.ddb));
  await slow.gates[0]!.reached;

  // Meanwhile the runner stores x and y and sends their notifications; the slow attempt then loses x's slot.
  expect((await persistBatch(batch(x, record(inbound(c, "y"), c)), deps())).batchItemFailures).toEqual([]);
  slow.gates[0]!.release();
  expect((await s).batchItemFailures).toEqual([]);

  const seqs = (await notifications()).filter((n) => n.message.conversationId === c).map((n) => n.message.seq);
  expect(seqs.sort()).toEqual([1, 2]);
});
