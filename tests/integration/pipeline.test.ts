/**
 * The write-ahead pipeline end to end on the real emulators and the real persister runner process:
 * inbound FIFO queue → runner (Lambda's SQS mapping) → DynamoDB → notification queue.
 */
import { randomUUID } from "node:crypto";
import {
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  GetQueueAttributesCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { createDynamoClient, createSqsClient } from "../../runtime/aws/clients";
import { inboundDeduplicationId, notificationSchema, queues, type InboundMessage } from "../../runtime/contracts";
import { startLocalStack, type LocalStack } from "../../runtime/local/stack";
import { createConversation, getConversations } from "../../runtime/store/conversations";
import type { Db } from "../../runtime/store/db";
import { pageMessages } from "../../runtime/store/messages";
import type { StoredMessage } from "../../runtime/contracts";
import { drainQueue } from "../support/emulated";

jest.setTimeout(120_000);

let stack: LocalStack;
let sqs: SQSClient;
let db: Db;

beforeAll(async () => {
  stack = await startLocalStack({ gateways: 0, inMemory: true, visibilityTimeoutSeconds: { inbound: 2 } });
  const aws = {
    region: "us-east-1",
    sqsEndpoint: stack.emulators.sqs.endpoint,
    dynamodbEndpoint: stack.emulators.dynamodb.endpoint,
  };
  sqs = createSqsClient(aws);
  db = { ddb: createDynamoClient(aws), tables: stack.provisioned.tableNames };
});
afterAll(async () => {
  sqs?.destroy();
  db?.ddb.destroy();
  await stack?.stop();
});

const newId = () => `g:${randomUUID().replace(/-/g, "").slice(0, 16)}`;

async function conversations(n: number): Promise<string[]> {
  const ids = Array.from({ length: n }, newId);
  await Promise.all(
    ids.map((conversationId) =>
      createConversation(db, {
        conversationId,
        kind: "group",
        title: conversationId,
        memberIds: ["alice", "bob"],
        createdBy: "alice",
        createdAt: Date.now(),
      }),
    ),
  );
  return ids;
}

function message(conversationId: string, clientMessageId: string): InboundMessage {
  return {
    v: 1,
    conversationId,
    senderId: "alice",
    clientMessageId,
    body: `hello ${clientMessageId}`,
    sentAt: Date.now(),
  };
}

/** Sends in batches of 10. `resend` gives a fresh SQS dedupe id: a resend after SQS's 5-minute window. */
async function enqueue(items: { body: InboundMessage | string; group: string; resend?: boolean }[]): Promise<void> {
  for (let i = 0; i < items.length; i += 10) {
    const chunk = items.slice(i, i + 10);
    const out = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: stack.provisioned.queueUrls.inbound,
        Entries: chunk.map((it, j) => ({
          Id: String(j),
          MessageBody: typeof it.body === "string" ? it.body : JSON.stringify(it.body),
          MessageGroupId: it.group,
          MessageDeduplicationId:
            typeof it.body === "string" || it.resend ? randomUUID() : inboundDeduplicationId(it.body),
        })),
      }),
    );
    expect(out.Failed ?? []).toEqual([]);
  }
}

async function waitFor(what: string, predicate: () => Promise<boolean>, timeoutMs = 60_000): Promise<number> {
  const start = Date.now();
  while (!(await predicate())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return Date.now() - start;
}

async function totalStored(ids: string[]): Promise<number> {
  return (await getConversations(db, ids)).reduce((n, c) => n + c.lastSeq, 0);
}

async function allMessages(conversationId: string): Promise<StoredMessage[]> {
  const out: StoredMessage[] = [];
  let after = 0;
  for (;;) {
    const page = await pageMessages(db, conversationId, { after, limit: 100 });
    out.push(...page.messages);
    if (!page.hasMore) return out;
    after = page.messages.at(-1)!.seq;
  }
}

/** Per conversation: lost, duplicated and out-of-order counts against the intended send order. */
async function audit(expected: Map<string, string[]>) {
  let lost = 0;
  let duplicated = 0;
  let reordered = 0;
  for (const [c, want] of expected) {
    const got = await allMessages(c);
    got.forEach((m, i) => expect(m.seq).toBe(i + 1)); // gap-free
    const ids = got.map((m) => m.clientMessageId);
    duplicated += ids.length - new Set(ids).size;
    lost += want.filter((id) => !ids.includes(id)).length;
    const unique = ids.filter((id, i) => ids.indexOf(id) === i);
    if (unique.join() !== want.filter((id) => unique.includes(id)).join()) reordered++;
  }
  return { lost, duplicated, reordered };
}

test("1,000 messages over 20 conversations with resends and forced redeliveries: exactly once, gap-free, in order, one notification each", async () => {
  const ids = await conversations(20);
  const expected = new Map(ids.map((c) => [c, [] as string[]]));
  const items: { body: InboundMessage; group: string; resend?: boolean }[] = [];
  for (let i = 0; i < 1000; i++) {
    const c = ids[i % ids.length]!;
    const m = message(c, `m${i}`);
    expected.get(c)!.push(m.clientMessageId);
    items.push({ body: m, group: c });
    // Every 10th message is resent twice: once through SQS's own dedupe, once as a late resend.
    if (i % 10 === 0) items.push({ body: m, group: c }, { body: m, group: c, resend: true });
  }
  const started = Date.now();
  const sending = enqueue(items);
  // Forced redeliveries: a rogue consumer takes messages and never deletes them; they return after the
  // visibility timeout with ApproximateReceiveCount 2.
  let stolen = 0;
  for (let k = 0; k < 5; k++) {
    const out = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: stack.provisioned.queueUrls.inbound, MaxNumberOfMessages: 10 }),
    );
    stolen += out.Messages?.length ?? 0;
  }
  await sending;
  await waitFor("1,000 stored", async () => (await totalStored(ids)) === 1000);
  const elapsed = Date.now() - started;

  expect(await audit(expected)).toEqual({ lost: 0, duplicated: 0, reordered: 0 });
  expect(stolen).toBeGreaterThan(0);

  await new Promise((r) => setTimeout(r, 500));
  const notes = (await drainQueue(sqs, stack.provisioned.queueUrls.notify)).map((b) =>
    notificationSchema.parse(JSON.parse(b)),
  );
  const keys = notes.map((n) => `${n.message.conversationId}#${n.message.seq}`);
  expect(new Set(keys).size).toBe(1000);
  expect(keys).toHaveLength(1000);
  console.log(`pipeline: 1,000 unique (+200 resends, ${stolen} redelivered) stored in ${elapsed} ms`);
});

test("a poison message reaches the inbound DLQ after maxReceiveCount without blocking other conversations", async () => {
  const [poisoned, healthy] = await conversations(2);
  const started = Date.now();
  await enqueue([
    { body: message(poisoned!, "ok-1"), group: poisoned! },
    { body: "{not json", group: poisoned! },
    ...Array.from({ length: 20 }, (_, i) => ({ body: message(healthy!, `h${i}`), group: healthy! })),
  ]);
  const healthyMs = await waitFor(
    "healthy conversation stored",
    async () => (await totalStored([healthy!])) === 20,
    15_000,
  );
  expect(healthyMs).toBeLessThan(10_000);

  await waitFor(
    "poison in DLQ",
    async () => {
      const a = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: stack.provisioned.dlqUrls.inbound,
          AttributeNames: ["ApproximateNumberOfMessages"],
        }),
      );
      return Number(a.Attributes?.ApproximateNumberOfMessages) === 1;
    },
    60_000,
  );
  const dead = await drainQueue(sqs, stack.provisioned.dlqUrls.inbound);
  expect(dead).toEqual(["{not json"]);
  expect((await allMessages(poisoned!)).map((m) => m.clientMessageId)).toEqual(["ok-1"]);
  console.log(
    `poison: healthy conversation done in ${healthyMs} ms; poison dead-lettered after ${Date.now() - started} ms (maxReceiveCount ${queues.inbound.maxReceiveCount}, visibility 2 s)`,
  );
});

test("the runner SIGKILLed mid-batch and restarted: 0 lost, 0 duplicated, 0 reordered", async () => {
  const ids = await conversations(10);
  const expected = new Map(ids.map((c) => [c, [] as string[]]));
  const items = Array.from({ length: 400 }, (_, i) => {
    const c = ids[i % ids.length]!;
    const m = message(c, `k${i}`);
    expected.get(c)!.push(m.clientMessageId);
    return { body: m, group: c };
  });
  const sending = enqueue(items);
  for (let round = 0; round < 3; round++) {
    await waitFor("progress", async () => (await totalStored(ids)) > (round + 1) * 60, 30_000);
    await stack.runner!.kill();
    await stack.startRunner();
  }
  await sending;
  await waitFor("400 stored", async () => (await totalStored(ids)) === 400);
  expect(await audit(expected)).toEqual({ lost: 0, duplicated: 0, reordered: 0 });
});
