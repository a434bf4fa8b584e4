/**
 * The queue-consumer lifecycle (runtime/aws/queue-consumer.ts) against a scripted SQS client: what is deleted,
 * how failures back off, and how `stop()` treats a long poll in flight.
 */
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type Message, type SQSClient } from "@aws-sdk/client-sqs";
import { backoffMs, QueueConsumer, type QueueConsumerOptions } from "../../runtime/aws/queue-consumer";
import { setTimeout as delay } from "node:timers/promises";
import { sleep, waitUntil } from "../support/timing";

type Receive = (signal: AbortSignal | undefined) => Promise<{ Messages?: Message[] }>;

/** An SQS client whose receives follow `script` (then wait, abortably, like an empty long poll). */
function scriptedSqs(script: Receive[]) {
  const deleted: string[][] = [];
  const receives: number[] = [];
  const client = {
    async send(cmd: unknown, opts?: { abortSignal?: AbortSignal }) {
      if (cmd instanceof ReceiveMessageCommand) {
        receives.push(Date.now());
        const next = script.shift();
        if (next) return next(opts?.abortSignal);
        return longPoll(cmd.input.WaitTimeSeconds! * 1000, [])(opts?.abortSignal);
      }
      if (cmd instanceof DeleteMessageBatchCommand) {
        deleted.push(cmd.input.Entries!.map((e) => e.ReceiptHandle!));
        return {};
      }
      throw new Error(`unexpected command ${String(cmd)}`);
    },
  };
  return { sqs: client as unknown as SQSClient, deleted, receives };
}

/** A receive that answers after `ms`, or rejects as the SDK does when its abort signal fires. */
function longPoll(ms: number, messages: Message[]): Receive {
  return (signal) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => resolve({ Messages: messages }), ms);
      signal?.addEventListener("abort", () => {
        clearTimeout(timer);
        reject(Object.assign(new Error("aborted"), { name: "AbortError" }));
      });
    });
}

const msg = (id: string): Message => ({ MessageId: id, ReceiptHandle: `rh-${id}`, Body: id });
const failing: Receive = () => Promise.reject(new Error("connection reset"));

function consumer(sqs: SQSClient, overrides: Partial<QueueConsumerOptions> = {}) {
  const errors: string[] = [];
  const c = new QueueConsumer({
    sqs,
    queueUrl: "q",
    receivers: 1,
    maxMessages: 10,
    waitTimeSeconds: 1,
    handle: async (m) => m,
    onError: (err, phase) => errors.push(`${phase}: ${(err as Error).message}`),
    ...overrides,
  });
  return { c, errors };
}

test("deletes exactly the messages the handler returns, in one batch", async () => {
  const { sqs, deleted } = scriptedSqs([longPoll(0, [msg("a"), msg("b"), msg("c")])]);
  const { c } = consumer(sqs, { handle: async (m) => m.filter((x) => x.MessageId !== "b") });
  c.start();
  await sleep(100);
  await c.stop();
  expect(deleted).toEqual([["rh-a", "rh-c"]]);
});

test("with a poll client, receives go through it and deletes through the other client", async () => {
  const polls = scriptedSqs([longPoll(0, [msg("a"), msg("b")])]);
  const calls = scriptedSqs([failing]); // would fail a receive sent to it
  const { c, errors } = consumer(calls.sqs, { pollSqs: polls.sqs });
  c.start();
  await sleep(100);
  await c.stop();
  expect(errors).toEqual([]);
  expect(polls.receives.length).toBeGreaterThanOrEqual(1);
  expect(calls.receives).toEqual([]);
  expect(calls.deleted).toEqual([["rh-a", "rh-b"]]);
  expect(polls.deleted).toEqual([]);
});

/** Records each backoff the consumer asks for, and waits only 1 ms. */
function recordedPauses() {
  const pauses: number[] = [];
  return { pauses, sleep: async (ms: number) => void pauses.push(ms) };
}

test("a handler that throws deletes nothing and backs off before the next receive", async () => {
  const { sqs, deleted } = scriptedSqs([longPoll(0, [msg("a")]), longPoll(0, [msg("a")])]);
  const { pauses, sleep: recorded } = recordedPauses();
  let calls = 0;
  const { c, errors } = consumer(sqs, {
    sleep: recorded,
    handle: async (m) => {
      if (++calls === 1) throw new Error("poison");
      return m;
    },
  });
  c.start();
  await sleep(200);
  await c.stop();
  expect(errors).toEqual(["handle: poison"]);
  expect(deleted).toEqual([["rh-a"]]);
  expect(pauses).toEqual([50]);
});

test("failed receives back off exponentially up to 2 s, and a success resets the backoff", async () => {
  expect([1, 2, 3, 4, 5, 6, 7, 12].map(backoffMs)).toEqual([50, 100, 200, 400, 800, 1600, 2000, 2000]);
  const { sqs } = scriptedSqs([failing, failing, failing, longPoll(0, []), failing, failing, longPoll(0, [])]);
  const { pauses, sleep: recorded } = recordedPauses();
  const { c, errors } = consumer(sqs, { sleep: recorded });
  c.start();
  await sleep(200);
  await c.stop();
  expect(errors).toEqual(Array(5).fill("receive: connection reset"));
  expect(pauses).toEqual([50, 100, 200, 50, 100]);
});

test("stop lets a long poll in flight finish and handles and deletes what it brought", async () => {
  const { sqs, deleted, receives } = scriptedSqs([longPoll(400, [msg("late")])]);
  const handled: string[] = [];
  const { c } = consumer(sqs, {
    handle: async (m) => {
      handled.push(...m.map((x) => x.MessageId!));
      return m;
    },
  });
  c.start();
  await sleep(50);
  const t0 = Date.now();
  await c.stop();
  expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
  expect(handled).toEqual(["late"]);
  expect(deleted).toEqual([["rh-late"]]);
  expect(receives).toHaveLength(1);
});

test("stop aborts a receive that outlasts waitTimeSeconds plus the grace, without reporting an error", async () => {
  const { sqs, deleted } = scriptedSqs([longPoll(60_000, [msg("never")])]);
  const { c, errors } = consumer(sqs, { waitTimeSeconds: 0, stopGraceMs: 200 });
  c.start();
  const t0 = Date.now();
  await c.stop();
  const took = Date.now() - t0;
  expect(took).toBeGreaterThanOrEqual(190);
  expect(took).toBeLessThan(5_000);
  expect(errors).toEqual([]);
  expect(deleted).toEqual([]);
});

test("stop cuts a backoff short", async () => {
  const { sqs, receives } = scriptedSqs([failing]);
  // Every backoff lasts a minute unless its signal aborts it.
  const minute = (_ms: number, signal: AbortSignal) => delay(60_000, undefined, { signal }).catch(() => undefined);
  const { c } = consumer(sqs, { sleep: minute });
  c.start();
  await sleep(100);
  const t0 = Date.now();
  await c.stop();
  expect(Date.now() - t0).toBeLessThan(10_000);
  expect(receives).toHaveLength(1);
});

test("refuses negative receivers and batches outside 1..10; 0 receivers receive nothing", async () => {
  const { sqs, receives } = scriptedSqs([]);
  expect(() => consumer(sqs, { receivers: -1 })).toThrow("receivers must be ≥ 0, got -1");
  expect(() => consumer(sqs, { receivers: 1.5 })).toThrow("receivers must be ≥ 0, got 1.5");
  const { c } = consumer(sqs, { receivers: 0 });
  c.start();
  await c.stop();
  expect(receives).toEqual([]);
  expect(() => consumer(sqs, { maxMessages: 11 })).toThrow("maxMessages must be between 1 and 10, got 11");
  expect(() => consumer(sqs, { maxMessages: 0 })).toThrow("maxMessages must be between 1 and 10, got 0");
});

test("handlersInFlight: one receiver keeps up to that many batches in flight, and never receives past it", async () => {
  const { sqs, deleted, receives } = scriptedSqs([
    longPoll(0, [msg("a")]),
    longPoll(0, [msg("b")]),
    longPoll(0, [msg("c")]),
  ]);
  const gates: (() => void)[] = [];
  let running = 0;
  let most = 0;
  const { c } = consumer(sqs, {
    handlersInFlight: 2,
    handle: async (m) => {
      most = Math.max(most, ++running);
      await new Promise<void>((r) => gates.push(r));
      running--;
      return m;
    },
  });
  c.start();
  // a and b are being handled; the receiver waits for a slot instead of receiving c.
  await waitUntil(() => running === 2);
  await sleep(50);
  expect(receives).toHaveLength(2);
  gates.shift()!();
  // a's slot freed: c was received and handed over.
  await waitUntil(() => receives.length === 3 && running === 2);
  const stopped = c.stop();
  for (let i = 0; i < 3; i++) {
    await sleep(20);
    gates.shift()?.();
  }
  await stopped;
  expect(most).toBe(2);
  expect(deleted.flat().sort()).toEqual(["rh-a", "rh-b", "rh-c"]);
});

test("handlersInFlight below 1 is refused", () => {
  const { sqs } = scriptedSqs([]);
  expect(() => consumer(sqs, { handlersInFlight: 0 })).toThrow(/handlersInFlight must be ≥ 1/);
});

describe("deleteWithinMs: handled messages share a DeleteMessageBatch", () => {
  test("messages of several receives within the window are deleted in one call, after the window", async () => {
    const { sqs, deleted, receives } = scriptedSqs([
      longPoll(0, [msg("a")]),
      longPoll(20, [msg("b")]),
      longPoll(20, [msg("c"), msg("d")]),
    ]);
    let deletedAt = 0;
    const send = sqs.send.bind(sqs);
    const timed = {
      send: (cmd: unknown, opts?: { abortSignal?: AbortSignal }) => {
        if (cmd instanceof DeleteMessageBatchCommand) deletedAt = Date.now();
        return send(cmd as never, opts);
      },
    } as unknown as SQSClient;
    const { c } = consumer(timed, { deleteWithinMs: 1_000 });
    c.start();
    await waitUntil(() => deleted.length > 0, { what: "a delete" });
    expect(deleted).toEqual([["rh-a", "rh-b", "rh-c", "rh-d"]]);
    expect(deletedAt - receives[0]!).toBeGreaterThanOrEqual(990);
    await c.stop();
    expect(deleted).toHaveLength(1);
  });

  test("ten waiting deletes go at once, without waiting for the window (SQS's batch limit)", async () => {
    const ids = "abcdefghijkl".split("");
    const { sqs, deleted } = scriptedSqs([longPoll(0, ids.slice(0, 6).map(msg)), longPoll(0, ids.slice(6).map(msg))]);
    const { c } = consumer(sqs, { deleteWithinMs: 60_000 });
    c.start();
    await waitUntil(() => deleted.length > 0, { what: "a delete" });
    expect(deleted).toEqual([ids.slice(0, 10).map((i) => `rh-${i}`)]);
    await c.stop(); // the two left are deleted by stop, not left for the visibility timeout
    expect(deleted).toEqual([ids.slice(0, 10).map((i) => `rh-${i}`), ["rh-k", "rh-l"]]);
  });

  test("what the handler did not return is never deleted, and a delete that fails is reported", async () => {
    const failingDeletes = scriptedSqs([longPoll(0, [msg("a"), msg("b")])]);
    const send = failingDeletes.sqs.send.bind(failingDeletes.sqs);
    const sqs = {
      send: (cmd: unknown, opts?: { abortSignal?: AbortSignal }) =>
        cmd instanceof DeleteMessageBatchCommand ? Promise.reject(new Error("throttled")) : send(cmd as never, opts),
    } as unknown as SQSClient;
    const { c, errors } = consumer(sqs, { deleteWithinMs: 50, handle: async (m) => m.slice(1) });
    c.start();
    await waitUntil(() => errors.length > 0, { what: "a delete error" });
    await c.stop();
    expect(errors).toEqual(["delete: throttled"]);
  });

  test("a negative window is refused", () => {
    expect(() => consumer(scriptedSqs([]).sqs, { deleteWithinMs: -1 })).toThrow(/deleteWithinMs must be ≥ 0/);
  });
});
