/**
 * SQS long polling as AWS does it, in the local SQS (runtime/local/fauxqs-aws-polling.mjs): a message wakes one
 * waiting receive, and the others keep waiting for theirs rather than answering empty at once — so N pollers
 * do not cost N receives per message. Standard and FIFO queues, over the real wire protocol.
 */
import {
  CreateQueueCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type ReceiveMessageCommandOutput,
} from "@aws-sdk/client-sqs";
import { createSqsClient } from "../../runtime/aws/clients";
import { emulatorAws, startEmulators, type Emulators } from "../../runtime/local/emulators";

jest.setTimeout(60_000);

const WAIT_SECONDS = 2;

let emulators: Emulators;
let sqs: ReturnType<typeof createSqsClient>;

beforeAll(async () => {
  emulators = await startEmulators();
  sqs = createSqsClient(emulatorAws(emulators));
}, 60_000);

afterAll(async () => {
  sqs?.destroy();
  await emulators?.stop();
});

async function queue(name: string): Promise<string> {
  const fifo = name.endsWith(".fifo");
  const r = await sqs.send(
    new CreateQueueCommand({ QueueName: name, Attributes: fifo ? { FifoQueue: "true" } : undefined }),
  );
  return r.QueueUrl!;
}

interface Polled {
  readonly count: number;
  readonly ms: number;
}

/** `n` long polls started together; each resolves with how many messages it got and when. */
function polls(queueUrl: string, n: number): Promise<Polled>[] {
  const start = Date.now();
  return Array.from({ length: n }, () =>
    sqs
      .send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: WAIT_SECONDS }))
      .then((r: ReceiveMessageCommandOutput) => ({ count: r.Messages?.length ?? 0, ms: Date.now() - start })),
  );
}

/** Lets the receives reach the emulator and start waiting. */
const settle = () => new Promise((r) => setTimeout(r, 300));

function expectEmptyOnlyAtTheWaitTime(results: Polled[]) {
  for (const r of results.filter((x) => x.count === 0)) expect(r.ms).toBeGreaterThanOrEqual(WAIT_SECONDS * 1000 - 100);
}

describe("a long poll in the local SQS", () => {
  it("standard queue: one message wakes one of three waiting receives; the others wait out their time", async () => {
    const url = await queue("long-poll-one");
    const pending = polls(url, 3);
    await settle();
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: "one" }));
    const results = await Promise.all(pending);
    expect(results.map((r) => r.count).sort()).toEqual([0, 0, 1]);
    expect(results.find((r) => r.count === 1)!.ms).toBeLessThan(WAIT_SECONDS * 1000 - 500);
    expectEmptyOnlyAtTheWaitTime(results);
  });

  it("standard queue: a batch of ten wakes one receive, which takes all ten", async () => {
    const url = await queue("long-poll-batch");
    const pending = polls(url, 2);
    await settle();
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: Array.from({ length: 10 }, (_, i) => ({ Id: String(i), MessageBody: `m${i}` })),
      }),
    );
    const results = await Promise.all(pending);
    expect(results.map((r) => r.count).sort((a, b) => a - b)).toEqual([0, 10]);
    expectEmptyOnlyAtTheWaitTime(results);
  });

  it("FIFO queue: messages of two groups sent one after the other wake two receives", async () => {
    const url = await queue("long-poll.fifo");
    const pending = polls(url, 3);
    await settle();
    for (const group of ["a", "b"]) {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: url,
          MessageBody: group,
          MessageGroupId: group,
          MessageDeduplicationId: group,
        }),
      );
    }
    const results = await Promise.all(pending);
    expect(results.map((r) => r.count).sort()).toEqual([0, 1, 1]);
    expectEmptyOnlyAtTheWaitTime(results);
  });
});
