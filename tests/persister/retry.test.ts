/**
 * Failed inbound records come back within seconds: the backoff computation, the visibility the handler sets
 * on each failed record (recorded through an injected SQS client), and — against fauxqs — that a record failed
 * with a long visibility really is handed out again after the backoff, and a poison one at once.
 */
import { randomUUID } from "node:crypto";
import {
  ChangeMessageVisibilityBatchCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type ChangeMessageVisibilityBatchCommandInput,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { inboundDeduplicationId } from "../../runtime/aws/dedup-id";
import { LOCAL_REGION, queues, type InboundMessage } from "../../runtime/contracts";
import { persistBatch, type PersisterDeps } from "../../runtime/persister/persist-batch";
import {
  POISON_VISIBILITY_SECONDS,
  RETRY_CAP_SECONDS,
  retryDelaySeconds,
  visibilityChanges,
} from "../../runtime/persister/retry";
import type { SqsEvent, SqsRecord } from "../../runtime/persister/sqs-event";
import { toLambdaRecord } from "../../runtime/local/event-source";
import { createConversation } from "../../runtime/store/conversations";
import { pageMessages } from "../../runtime/store/messages";
import { drainQueue, startEmulated, type Emulated } from "../support/emulated";
import { sqsArn, sqsRecord } from "../support/sqs-record";
import { type DocumentClient, type DocumentCommand } from "../../runtime/aws/document-client";

describe("retryDelaySeconds", () => {
  test("doubles from 1 s while receives are to spare; the last two attempts keep the visibility timeout", () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => retryDelaySeconds(n, 5))).toEqual([1, 2, 4, undefined, undefined, undefined]);
    expect(queues.inbound.maxReceiveCount).toBe(5);
  });

  test("is capped, and a queue with fewer receives gets fewer fast retries", () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => retryDelaySeconds(n, 10))).toEqual([
      1,
      2,
      4,
      8,
      16,
      RETRY_CAP_SECONDS,
      RETRY_CAP_SECONDS,
      RETRY_CAP_SECONDS,
      undefined,
    ]);
    expect(retryDelaySeconds(1, 3)).toBe(1);
    expect(retryDelaySeconds(2, 3)).toBeUndefined();
    expect(retryDelaySeconds(1, 2)).toBeUndefined();
    expect(retryDelaySeconds(1, 1)).toBeUndefined();
  });

  test("a missing or odd receive count counts as the first receive", () => {
    expect(retryDelaySeconds(Number.NaN, 5)).toBe(1);
    expect(retryDelaySeconds(0, 5)).toBe(1);
    expect(retryDelaySeconds(2.5, 5)).toBe(1);
  });
});

function rec(group: string, receiveCount = 1, id = randomUUID()): SqsRecord {
  return sqsRecord("{}", group, { id, receiptHandle: `rh-${id}`, receiveCount, sentAt: 1 });
}

describe("visibilityChanges", () => {
  const plan = (groups: SqsRecord[][], failed: SqsRecord[], poison: SqsRecord[] = []) =>
    visibilityChanges(groups, new Set(failed.map((r) => r.messageId)), new Set(poison.map((r) => r.messageId)), 5).map(
      (c) => [c.record.messageId, c.seconds],
    );

  test("a group's retryable failures share one backoff, from the highest receive count; successes are untouched", () => {
    const [a1, a2, a3] = [rec("a", 1), rec("a", 2), rec("a", 1)];
    const [b1, b2] = [rec("b", 1), rec("b", 1)];
    expect(
      plan(
        [
          [a1!, a2!, a3!],
          [b1!, b2!],
        ],
        [a2!, a3!, b2!],
      ),
    ).toEqual([
      [a2!.messageId, 2],
      [a3!.messageId, 2],
      [b2!.messageId, 1],
    ]);
  });

  test("poison is made visible at once, the group's retryable records behind it get the backoff", () => {
    const [p, ok, t, rest] = [rec("a", 3), rec("a", 1), rec("a", 1), rec("a", 1)];
    expect(plan([[p!, ok!, t!, rest!]], [p!, t!, rest!], [p!])).toEqual([
      [p!.messageId, POISON_VISIBILITY_SECONDS],
      [t!.messageId, 1],
      [rest!.messageId, 1],
    ]);
  });

  test("a group near maxReceiveCount keeps the visibility timeout for all its retryable records, not its poison", () => {
    const [p, t, rest] = [rec("a", 5), rec("a", 4), rec("a", 1)];
    expect(plan([[p!, t!, rest!]], [p!, t!, rest!], [p!])).toEqual([[p!.messageId, 0]]);
  });
});

let e: Emulated;
beforeAll(async () => {
  e = await startEmulated();
});
afterAll(() => e?.close());

let clock = 1_700_000_000_000;
const log = { warn: jest.fn(), error: jest.fn() };
beforeEach(() => jest.clearAllMocks());

/** The real fauxqs client, with every ChangeMessageVisibilityBatch recorded (and optionally refused). */
function recordingSqs(opts: { refuse?: boolean } = {}): {
  sqs: SQSClient;
  calls: ChangeMessageVisibilityBatchCommandInput[];
} {
  const calls: ChangeMessageVisibilityBatchCommandInput[] = [];
  const sqs = new Proxy(e.sqs, {
    get(target, prop, receiver) {
      if (prop === "send") {
        return (cmd: Parameters<SQSClient["send"]>[0]) => {
          if (cmd instanceof ChangeMessageVisibilityBatchCommand) {
            calls.push(cmd.input);
            if (opts.refuse) return Promise.reject(new Error("injected: SQS unavailable"));
          }
          return target.send(cmd);
        };
      }
      return Reflect.get(target, prop, receiver);
    },
  });
  return { sqs, calls };
}

/** Every write carrying one of these clientMessageIds fails (the first write of a message is its put). */
function failingWritesOf(...clientMessageIds: string[]): DocumentClient {
  return new Proxy(e.ddb, {
    get(target, prop, receiver) {
      if (prop === "send") {
        return (cmd: { input?: { Item?: { clientMessageId?: string } } }) =>
          clientMessageIds.includes(cmd.input?.Item?.clientMessageId ?? "")
            ? Promise.reject(new Error("injected: throttled"))
            : target.send(cmd as DocumentCommand);
      }
      return Reflect.get(target, prop, receiver);
    },
  });
}

const QUEUE_URL = "http://sqs.test/000000000000/inbound.fifo";

function deps(over: Partial<PersisterDeps> = {}): PersisterDeps {
  return {
    db: { ddb: e.ddb, tables: e.provisioned.tableNames },
    sqs: e.sqs,
    notifyQueueUrl: e.provisioned.queueUrls.notify,
    inboundQueueUrl: QUEUE_URL,
    now: () => ++clock,
    log,
    ...over,
  };
}

async function newConversation(): Promise<string> {
  const conversationId = `g:${randomUUID().replace(/-/g, "").slice(0, 20)}`;
  await createConversation(e.db, {
    conversationId,
    kind: "group",
    title: "t",
    memberIds: ["alice", "bob"],
    createdBy: "alice",
    createdAt: clock,
  });
  return conversationId;
}

function inbound(conversationId: string, clientMessageId: string, senderId = "alice"): InboundMessage {
  return { v: 1, conversationId, senderId, clientMessageId, body: `body ${clientMessageId}`, sentAt: clock };
}

function record(body: unknown, group: string, receiveCount = 1): SqsRecord {
  return { ...rec(group, receiveCount), body: typeof body === "string" ? body : JSON.stringify(body) };
}

const batch = (...records: SqsRecord[]): SqsEvent => ({ Records: records });
const entries = (calls: ChangeMessageVisibilityBatchCommandInput[]) =>
  calls.flatMap((c) => (c.Entries ?? []).map((x) => [x.ReceiptHandle, x.VisibilityTimeout]));
const stored = async (c: string) =>
  (await pageMessages(e.db, c, { after: 0, limit: 100 })).messages.map((m) => m.clientMessageId);

describe("the handler's visibility calls", () => {
  test("a transient failure: the record and the rest of its group come back after 1 s; other groups untouched", async () => {
    const [a, b] = [await newConversation(), await newConversation()];
    const [a1, a2, a3] = ["a1", "a2", "a3"].map((id) => record(inbound(a, id), a));
    const [b1, b2] = ["b1", "b2"].map((id) => record(inbound(b, id), b));
    const { sqs, calls } = recordingSqs();
    const res = await persistBatch(
      batch(a1!, b1!, a2!, b2!, a3!),
      deps({ sqs, db: { ddb: failingWritesOf("a2"), tables: e.provisioned.tableNames } }),
    );
    expect(res.batchItemFailures.map((f) => f.itemIdentifier)).toEqual([a2!.messageId, a3!.messageId]);
    expect(calls.map((c) => c.QueueUrl)).toEqual([QUEUE_URL]);
    expect(entries(calls)).toEqual([
      [a2!.receiptHandle, 1],
      [a3!.receiptHandle, 1],
    ]);
    expect(await stored(a)).toEqual(["a1"]);
    expect(await stored(b)).toEqual(["b1", "b2"]);
  });

  test("the backoff grows with the receive count, and the last attempts are left to the visibility timeout", async () => {
    const c = await newConversation();
    const ddb = failingWritesOf("x");
    for (const [receiveCount, expected] of [
      [1, [1]],
      [2, [2]],
      [3, [4]],
      [4, []],
      [5, []],
    ] as const) {
      const { sqs, calls } = recordingSqs();
      const r = record(inbound(c, "x"), c, receiveCount);
      const res = await persistBatch(batch(r), deps({ sqs, db: { ddb, tables: e.provisioned.tableNames } }));
      expect(res.batchItemFailures).toEqual([{ itemIdentifier: r.messageId }]);
      expect(entries(calls).map(([, s]) => s)).toEqual(expected);
    }
  });

  test("poison is made visible at once (its receives burn towards the DLQ) and the messages behind it are stored", async () => {
    const a = await newConversation();
    const a1 = record(inbound(a, "a1"), a);
    const intruder = record(inbound(a, "intruder", "mallory"), a);
    const notJson = record("{nope", a);
    const a4 = record(inbound(a, "a4"), a);
    const { sqs, calls } = recordingSqs();
    const res = await persistBatch(batch(a1, intruder, notJson, a4), deps({ sqs }));
    expect(res.batchItemFailures.map((f) => f.itemIdentifier)).toEqual([intruder.messageId, notJson.messageId]);
    expect(entries(calls)).toEqual([
      [intruder.receiptHandle, 0],
      [notJson.receiptHandle, 0],
    ]);
    expect(await stored(a)).toEqual(["a1", "a4"]);
  });

  test("a notification that could not be sent is retried with the backoff too", async () => {
    const c = await newConversation();
    const r = record(inbound(c, "n1"), c);
    const { sqs, calls } = recordingSqs();
    const res = await persistBatch(batch(r), deps({ sqs, notifyQueueUrl: `${e.provisioned.queueUrls.notify}-gone` }));
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: r.messageId }]);
    expect(entries(calls)).toEqual([[r.receiptHandle, 1]]);
  });

  test("nothing failed, or no queue URL: no visibility call", async () => {
    const c = await newConversation();
    const { sqs, calls } = recordingSqs();
    expect((await persistBatch(batch(record(inbound(c, "ok"), c)), deps({ sqs }))).batchItemFailures).toEqual([]);
    const poison = record("{nope", c);
    const res = await persistBatch(batch(poison), deps({ sqs, inboundQueueUrl: undefined }));
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: poison.messageId }]);
    expect(calls).toEqual([]);
  });

  test("a visibility call that fails is logged and changes nothing else: the failures are still reported", async () => {
    const c = await newConversation();
    const poison = record("{nope", c);
    const { sqs, calls } = recordingSqs({ refuse: true });
    const res = await persistBatch(batch(poison), deps({ sqs }));
    expect(calls).toHaveLength(1);
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: poison.messageId }]);
    expect(log.warn).toHaveBeenCalledWith(
      expect.objectContaining({ reason: expect.stringContaining("SQS unavailable") }),
      expect.stringMatching(/visibility/),
    );
  });

  test("more than 10 failed records are changed in batches of 10", async () => {
    const c = await newConversation();
    const records = Array.from({ length: 10 }, (_, i) => record(`{bad ${i}`, `${c}-${i % 2}`));
    records.push(...Array.from({ length: 3 }, (_, i) => record(`{bad x${i}`, c)));
    const { sqs, calls } = recordingSqs();
    await persistBatch(batch(...records), deps({ sqs }));
    expect(calls.map((x) => x.Entries?.length).sort()).toEqual([10, 3].sort());
    expect(new Set(entries(calls).map(([h]) => h))).toEqual(new Set(records.map((r) => r.receiptHandle)));
  });
});

describe("against fauxqs", () => {
  const queueUrl = () => e.provisioned.queueUrls.inbound;
  const arn = sqsArn("inbound.fifo");

  async function sendAndReceive(m: InboundMessage | string, group: string) {
    const body = typeof m === "string" ? m : JSON.stringify(m);
    await e.sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl(),
        MessageBody: body,
        MessageGroupId: group,
        MessageDeduplicationId: typeof m === "string" ? randomUUID() : inboundDeduplicationId(m),
      }),
    );
    return receive(60);
  }

  /** One receive with a long visibility: without the handler's change the record would stay hidden 60 s. */
  async function receive(visibility: number) {
    const out = await e.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl(),
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        VisibilityTimeout: visibility,
        MessageSystemAttributeNames: ["All"],
      }),
    );
    return (out.Messages ?? []).map((msg) => toLambdaRecord(msg, arn, LOCAL_REGION));
  }

  async function waitForRedelivery(timeoutMs: number): Promise<{ records: SqsRecord[]; afterMs: number }> {
    const started = Date.now();
    for (;;) {
      const records = await receive(60);
      if (records.length) return { records, afterMs: Date.now() - started };
      if (Date.now() - started > timeoutMs) return { records: [], afterMs: Date.now() - started };
    }
  }

  afterEach(async () => {
    await drainQueue(e.sqs, queueUrl());
    await drainQueue(e.sqs, e.provisioned.dlqUrls.inbound);
  });

  test("a transient failure received with 60 s visibility is handed out again after about 1 s", async () => {
    const c = await newConversation();
    const [r] = await sendAndReceive(inbound(c, "slow"), c);
    expect(r!.attributes.ApproximateReceiveCount).toBe("1");
    const res = await persistBatch(
      batch(r!),
      deps({ inboundQueueUrl: queueUrl(), db: { ddb: failingWritesOf("slow"), tables: e.provisioned.tableNames } }),
    );
    expect(res.batchItemFailures).toHaveLength(1);
    const again = await waitForRedelivery(10_000);
    expect(again.records.map((x) => x.messageId)).toEqual([r!.messageId]);
    expect(again.records[0]!.attributes.ApproximateReceiveCount).toBe("2");
    expect(again.afterMs).toBeGreaterThanOrEqual(700);
    expect(again.afterMs).toBeLessThan(5_000);
    // The retry succeeds once DynamoDB does.
    expect(
      (await persistBatch(batch(again.records[0]!), deps({ inboundQueueUrl: queueUrl() }))).batchItemFailures,
    ).toEqual([]);
    expect(await stored(c)).toEqual(["slow"]);
  });

  test("poison received with 60 s visibility is handed out again at once, and reaches the DLQ after maxReceiveCount", async () => {
    const c = await newConversation();
    let [r] = await sendAndReceive("{never json", c);
    const started = Date.now();
    for (let n = 1; n <= queues.inbound.maxReceiveCount; n++) {
      expect(r!.attributes.ApproximateReceiveCount).toBe(String(n));
      const res = await persistBatch(batch(r!), deps({ inboundQueueUrl: queueUrl() }));
      expect(res.batchItemFailures).toEqual([{ itemIdentifier: r!.messageId }]);
      if (n < queues.inbound.maxReceiveCount) {
        const again = await waitForRedelivery(5_000);
        expect(again.records).toHaveLength(1);
        r = again.records[0];
      }
    }
    // The next receive moves it to the DLQ (SQS's redrive policy), and hands out nothing.
    expect(await receive(60)).toEqual([]);
    expect(await drainQueue(e.sqs, e.provisioned.dlqUrls.inbound)).toEqual(["{never json"]);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
