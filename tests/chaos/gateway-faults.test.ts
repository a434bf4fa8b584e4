/**
 * Bounded CI form of the gateway-side chaos scenarios on a stack with two gateway processes: a gateway
 * SIGKILLed during fan-out (members resume on the survivor), and SQS stopped under sends (errors, never a
 * false `accepted`; resends stored once).
 */
import { seededRandom } from "../support/pipeline";
import { formatTable, passed, startChaosContext, type ChaosContext, type ScenarioResult } from "./kit";
import { gatewayKill } from "./scenarios/gateway-kill";
import { sqsOutage } from "./scenarios/sqs-outage";

jest.setTimeout(120_000);

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
  expect(r.failures).toEqual([]);
  expect({ lost: r.lost, duplicated: r.duplicated, reordered: r.reordered, bad: r.acceptedBadInput }).toEqual({
    lost: 0,
    duplicated: 0,
    reordered: 0,
    bad: 0,
  });
  expect(passed(r)).toBe(true);
}

test("a gateway SIGKILLed during fan-out, twice: every member ends with every message once, in order", async () => {
  expectClean(await gatewayKill(ctx, { rounds: 2 }));
});

test("SQS stopped under sends: UNAVAILABLE (never a false accepted), resends stored once, delivery resumes", async () => {
  const r = await sqsOutage(ctx, { rounds: 1 });
  expectClean(r);
  expect(r.notes).toMatch(/^[1-9]\d* sends during the outage answered UNAVAILABLE/);
});
