import type { SQSClient } from "@aws-sdk/client-sqs";
import {
  AWS_HOPS,
  contributions,
  estimate,
  quantileOf,
  sumOfP99s,
  type Figure,
  type Hop,
} from "../../bench/cloud-model";
import type { InboundMessage, TableNames } from "../../runtime/contracts";
import { persistBatch, type PersisterDeps } from "../../runtime/persister/persist-batch";
import { sqsRecord } from "../support/sqs-record";
import { type DocumentClient } from "../../runtime/aws/document-client";

const DRAWS = { draws: 40_000 };
const hop = (figure: Figure, trips = 1, share?: number): Hop => ({ name: "h", figure, trips, share });
/** A figure with no spread: every draw is `ms`. */
const fixed = (ms: number): Figure => ({ p50: ms, p99: ms });

test("a figure's quantile function passes through its percentiles and keeps the tail beyond p99", () => {
  const q = quantileOf({ p10: 20, p50: 28, p90: 61, p99: 645 });
  expect(q(-1.2815516)).toBeCloseTo(20, 6);
  expect(q(0)).toBeCloseTo(28, 6);
  expect(q(1.2815516)).toBeCloseTo(61, 6);
  expect(q(2.3263479)).toBeCloseTo(645, 6);
  expect(q(3)).toBeGreaterThan(645);
  expect(q(-3)).toBeLessThan(20);
});

test("percentiles that decrease are refused", () => {
  expect(() => quantileOf({ p50: 10, p90: 5, p99: 20 })).toThrow("must not decrease");
});

test("one hop alone comes back with its own p50 and p99", () => {
  const e = estimate([hop({ p50: 28.1, p99: 645 })], DRAWS);
  expect(e.p50).toBeGreaterThan(28.1 * 0.95);
  expect(e.p50).toBeLessThan(28.1 * 1.05);
  expect(e.p99).toBeGreaterThan(645 * 0.9);
  expect(e.p99).toBeLessThan(645 * 1.1);
});

test("trips add up and a share is taken by that share of deliveries only", () => {
  const close = (p50: number, p99: number) => ({ p50: expect.closeTo(p50, 9), p99: expect.closeTo(p99, 9) });
  expect(estimate([hop(fixed(5), 3)], DRAWS)).toEqual(close(15, 15));
  // 20 % of deliveries take the 10 ms hop: the median one does not, the p99 one does.
  expect(estimate([hop(fixed(1)), hop(fixed(10), 1, 0.2)], DRAWS)).toEqual(close(1, 11));
  expect(estimate([hop(fixed(1)), hop(fixed(10), 1, 0)], DRAWS)).toEqual(close(1, 1));
});

test("tails combine as a distribution: independent hops rarely peak together, so p99 < the sum of p99s", () => {
  const heavy = hop({ p50: 10, p99: 200 });
  const e = estimate([heavy, heavy], DRAWS);
  expect(e.p99).toBeGreaterThan(200);
  expect(e.p99).toBeLessThan(sumOfP99s([heavy, heavy]));
});

test("the estimate is the same for the same seed and moves with another", () => {
  const hops = [hop({ p50: 10, p99: 100 }), hop({ p50: 5, p99: 40 }, 2)];
  expect(estimate(hops, { ...DRAWS, seed: 7 })).toEqual(estimate(hops, { ...DRAWS, seed: 7 }));
  expect(estimate(hops, { ...DRAWS, seed: 7 })).not.toEqual(estimate(hops, { ...DRAWS, seed: 8 }));
});

test("a hop's contribution is what the end-to-end percentiles lose without it", () => {
  const [spread, constant] = contributions([hop({ p50: 10, p99: 100 }), hop(fixed(7), 1)], DRAWS);
  expect(constant).toMatchObject({ p50: expect.closeTo(7, 6), p99: expect.closeTo(7, 6) });
  expect(spread!.p99).toBeGreaterThan(spread!.p50);
});

/**
 * The model's persister term is the warm persister's sequential DynamoDB round trips per message, as the code makes
 * them: a change to runtime/persister that adds or removes one fails here, and docs/benchmark.md must follow.
 */
test("the persister hop has as many trips as a warm persister makes sequential DynamoDB calls per message", async () => {
  const members = ["alice", "bob"];
  const calls: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const ddb = {
    send: async (cmd: { constructor: { name: string }; input: { TableName?: string } }) => {
      calls.push(`${cmd.constructor.name} ${cmd.input.TableName}`);
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      await new Promise((r) => setImmediate(r));
      inFlight--;
      const name = cmd.constructor.name;
      if (name === "GetCommand" && cmd.input.TableName === "conversations") {
        return { Item: { conversationId: "g:cloudmodel00", memberIds: members } };
      }
      if (name === "QueryCommand") return { Items: [] };
      if (name === "UpdateCommand") return { Attributes: { memberIds: members } };
      return {};
    },
  } as unknown as DocumentClient;
  const sqsCalls: string[] = [];
  const sqs = {
    send: async (cmd: { constructor: { name: string } }) => {
      sqsCalls.push(cmd.constructor.name);
      return { Failed: [] };
    },
  } as unknown as SQSClient;
  const tables = { conversations: "conversations", messages: "messages", dedupe: "dedupe" } as TableNames;
  const deps: PersisterDeps = {
    db: { ddb, tables },
    sqs,
    notifyQueueUrl: "notify",
    now: () => 1_700_000_000_000,
    log: { warn: jest.fn(), error: jest.fn() },
    lastSeqCache: new Map(),
    conversationCache: new Map(),
  };
  const send = (clientMessageId: string) => {
    const m: InboundMessage = {
      v: 1,
      conversationId: "g:cloudmodel00",
      senderId: "alice",
      clientMessageId,
      body: "hi",
      sentAt: 1_700_000_000_000,
    };
    return persistBatch({ Records: [sqsRecord(m, m.conversationId)] }, deps);
  };

  await send("warm-up"); // fills the members and last-seq caches, as a warm Lambda instance has them
  calls.length = 0;
  sqsCalls.length = 0;
  maxInFlight = 0;
  expect((await send("measured")).batchItemFailures).toEqual([]);

  const persisterHop = AWS_HOPS.find((h) => h.name === "persister: DynamoDB round trips")!;
  expect(calls).toEqual(["PutCommand dedupe", "PutCommand messages", "UpdateCommand conversations"]);
  expect(calls).toHaveLength(persisterHop.trips);
  expect(maxInFlight).toBe(1); // sequential: each waits for the one before
  expect(sqsCalls).toEqual(["SendMessageBatchCommand"]); // the notifications, after the writes
});
