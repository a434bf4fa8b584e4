/**
 * Bounded CI form of the chaos scenarios besides runner-kill (which has its own file so jest runs the two in
 * parallel), on one local stack of real processes with two gateways: poison messages, forced duplicates, a
 * DynamoDB outage under load, a gateway SIGKILLed during fan-out, SQS stopped under sends. The audit itself is
 * checked first, so a zero in the table means "counted and found none", not "could not count".
 */
import { putMessageIfSlotFree } from "../../runtime/store/messages";
import { audit, createGroups, seededRandom } from "../support/pipeline";
import { expectClean as expectCleanResult } from "./expect-clean";
import { formatTable, startChaosContext, type ChaosContext, type ScenarioResult } from "./kit";
import { forcedDuplicates } from "./scenarios/duplicates";
import { dynamodbOutage } from "./scenarios/dynamodb-outage";
import { gatewayKill } from "./scenarios/gateway-kill";
import { poisonMessages } from "./scenarios/poison";
import { sqsOutage } from "./scenarios/sqs-outage";

jest.setTimeout(90_000);

let ctx: ChaosContext;
const results: ScenarioResult[] = [];

beforeAll(async () => {
  ctx = await startChaosContext({ gateways: 2, random: seededRandom(Date.now() % 1_000_000) });
}, 120_000);
afterAll(async () => {
  if (results.length) console.log(formatTable(results));
  await ctx?.close();
});

function expectClean(r: ScenarioResult): void {
  results.push(r);
  expectCleanResult(r);
}

test("the audit counts lost, duplicated, reordered, gapped and unexpected messages", async () => {
  const [c] = await createGroups(ctx.db, 1);
  const put = (seq: number, clientMessageId: string) =>
    putMessageIfSlotFree(ctx.db, {
      conversationId: c!,
      seq,
      senderId: "alice",
      clientMessageId,
      body: "x",
      sentAt: 1,
      storedAt: 1,
    });
  await put(1, "b");
  await put(2, "a");
  await put(3, "a");
  await put(5, "zz");
  expect(await audit(ctx.db, new Map([[c!, ["a", "b", "c"]]]))).toEqual({
    stored: 4,
    lost: 1,
    duplicated: 1,
    reordered: 1,
    gaps: 1,
    unexpected: 1,
  });
});

test("poison messages of 4 kinds reach the DLQ, exactly those, while other conversations keep flowing", async () => {
  expectClean(await poisonMessages(ctx, { rounds: 1 }));
});

test("forced duplicates (resends, 1 s visibility with two runners and a slow consumer, twins) are stored once", async () => {
  expectClean(await forcedDuplicates(ctx, { rounds: 1 }));
});

test("DynamoDB stopped for 3 s under load: the runner recovers and stores everything accepted", async () => {
  const r = await dynamodbOutage(ctx, { rounds: 1, outageMs: 3_000 });
  expectClean(r);
  expect(r.recoveryMs[0]).toBeLessThan(15_000);
});

test("a gateway SIGKILLed during fan-out, twice: every member ends with every message once, in order", async () => {
  expectClean(await gatewayKill(ctx, { rounds: 2 }));
});

// Last: it recreates fauxqs's in-memory queues.
test("SQS stopped under sends: UNAVAILABLE (never a false accepted), resends stored once, delivery resumes", async () => {
  const r = await sqsOutage(ctx, { rounds: 1 });
  expectClean(r);
  expect(r.notes).toMatch(/^[1-9]\d* sends during the outage answered UNAVAILABLE/);
});
