/**
 * The write-ahead pipeline end to end on the real emulators and the real persister runner process:
 * inbound FIFO queue → runner (Lambda's SQS mapping) → DynamoDB → notification queue.
 */
import { ReceiveMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { notificationSchema, queues } from "../../runtime/contracts";
import { startLocalStack, type LocalStack } from "../../runtime/local/stack";
import type { Db } from "../../runtime/store/db";
import { awsClients, drainQueue, type AwsClients } from "../support/emulated";
import {
  allMessages,
  audit,
  createGroups,
  enqueue,
  inbound,
  queueCounts,
  totalStored,
  type EnqueueItem,
} from "../support/pipeline";
import { timeUntil } from "../support/timing";

jest.setTimeout(120_000);

let stack: LocalStack;
let clients: AwsClients;
let sqs: SQSClient;
let db: Db;

beforeAll(async () => {
  stack = await startLocalStack({ gateways: 0, inMemory: true, visibilityTimeoutSeconds: { inbound: 2 } });
  clients = awsClients(stack.aws, stack.provisioned.tableNames);
  ({ sqs, db } = clients);
});
afterAll(async () => {
  clients?.destroy();
  await stack?.stop();
});

const send = (items: readonly EnqueueItem[]) => enqueue(sqs, stack.provisioned.queueUrls.inbound, items);
const clean = { lost: 0, duplicated: 0, reordered: 0, gaps: 0, unexpected: 0 };

test("1,000 messages over 20 conversations with resends and forced redeliveries: exactly once, gap-free, in order, one notification each", async () => {
  const ids = await createGroups(db, 20);
  const expected = new Map(ids.map((c) => [c, [] as string[]]));
  const items: EnqueueItem[] = [];
  for (let i = 0; i < 1000; i++) {
    const c = ids[i % ids.length]!;
    const m = inbound(c, `m${i}`);
    expected.get(c)!.push(m.clientMessageId);
    items.push({ body: m, group: c });
    // Every 10th message is resent twice: once through SQS's own dedupe, once as a late resend.
    if (i % 10 === 0) items.push({ body: m, group: c }, { body: m, group: c, resend: true });
  }
  const started = Date.now();
  // Forced redeliveries: a rogue consumer takes messages and never deletes them; they return after the
  // visibility timeout with ApproximateReceiveCount 2. It steals while the runner is stopped, so it is not a
  // race with the runner (which, on a busy machine, could hold every FIFO group and leave it nothing).
  await stack.runner!.kill();
  await send(items.slice(0, 100));
  let stolen = 0;
  for (let k = 0; k < 5; k++) {
    const out = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: stack.provisioned.queueUrls.inbound, MaxNumberOfMessages: 10 }),
    );
    stolen += out.Messages?.length ?? 0;
  }
  await stack.startRunner();
  await send(items.slice(100));
  await timeUntil("1,000 stored", async () => (await totalStored(db, ids)) === 1000);
  const elapsed = Date.now() - started;

  expect(await audit(db, expected)).toMatchObject(clean);
  expect(stolen).toBeGreaterThan(0);

  // A message's notification follows its write: collect until every stored message's has arrived.
  const keys: string[] = [];
  await timeUntil("1,000 notifications", async () => {
    const notes = (await drainQueue(sqs, stack.provisioned.queueUrls.notify)).map((b) =>
      notificationSchema.parse(JSON.parse(b)),
    );
    keys.push(...notes.map((n) => `${n.message.conversationId}#${n.message.seq}`));
    return new Set(keys).size >= 1000;
  });
  expect(new Set(keys).size).toBe(1000);
  expect(keys).toHaveLength(1000);
  console.log(`pipeline: 1,000 unique (+200 resends, ${stolen} redelivered) stored in ${elapsed} ms`);
});

test("a poison message reaches the inbound DLQ after maxReceiveCount without blocking other conversations", async () => {
  const [poisoned, healthy] = await createGroups(db, 2);
  const started = Date.now();
  await send([
    { body: inbound(poisoned!, "ok-1"), group: poisoned! },
    { body: "{not json", group: poisoned! },
    ...Array.from({ length: 20 }, (_, i) => ({ body: inbound(healthy!, `h${i}`), group: healthy! })),
  ]);
  const healthyMs = await timeUntil(
    "healthy conversation stored",
    async () => (await totalStored(db, [healthy!])) === 20,
    15_000,
  );
  expect(healthyMs).toBeLessThan(10_000);

  await timeUntil(
    "poison in DLQ",
    async () => (await queueCounts(sqs, stack.provisioned.dlqUrls.inbound)).visible === 1,
    60_000,
  );
  const dead = await drainQueue(sqs, stack.provisioned.dlqUrls.inbound);
  expect(dead).toEqual(["{not json"]);
  expect((await allMessages(db, poisoned!)).map((m) => m.clientMessageId)).toEqual(["ok-1"]);
  console.log(
    `poison: healthy conversation done in ${healthyMs} ms; poison dead-lettered after ${Date.now() - started} ms (maxReceiveCount ${queues.inbound.maxReceiveCount}, visibility 2 s)`,
  );
});

test("the runner SIGKILLed mid-batch and restarted: 0 lost, 0 duplicated, 0 reordered", async () => {
  const ids = await createGroups(db, 10);
  const expected = new Map(ids.map((c) => [c, [] as string[]]));
  const items = Array.from({ length: 400 }, (_, i) => {
    const c = ids[i % ids.length]!;
    const m = inbound(c, `k${i}`);
    expected.get(c)!.push(m.clientMessageId);
    return { body: m, group: c };
  });
  const sending = send(items);
  for (let round = 0; round < 3; round++) {
    await timeUntil("progress", async () => (await totalStored(db, ids)) > (round + 1) * 60, 30_000);
    await stack.runner!.kill();
    await stack.startRunner();
  }
  await sending;
  await timeUntil("400 stored", async () => (await totalStored(db, ids)) === 400);
  expect(await audit(db, expected)).toMatchObject(clean);
});
