/**
 * Bounded CI form of the runner-kill chaos scenario (`npm run test:chaos -- --long` runs 50 rounds).
 * Its own file so jest runs it beside the other chaos file: this one is CPU-bound (process restarts), the
 * other mostly waits on visibility timeouts.
 */
import { seededRandom } from "../support/pipeline";
import { formatTable, startChaosContext, type ChaosContext } from "./kit";
import { runnerKill } from "./scenarios/runner-kill";

jest.setTimeout(150_000);

let ctx: ChaosContext;
const seed = Date.now() % 1_000_000;

beforeAll(async () => {
  ctx = await startChaosContext({ random: seededRandom(seed) });
});
afterAll(async () => {
  await ctx?.close();
});

test("the persister runner SIGKILLed at 20 random points mid-batch: 0 lost, 0 duplicated, 0 reordered", async () => {
  const r = await runnerKill(ctx, { rounds: 20 });
  console.log(`seed ${seed}\n${formatTable([r])}\n${r.notes}`);
  expect(r.failures).toEqual([]);
  expect({ lost: r.lost, duplicated: r.duplicated, reordered: r.reordered }).toEqual({
    lost: 0,
    duplicated: 0,
    reordered: 0,
  });
  expect(r.rounds).toBeGreaterThanOrEqual(20);
  expect(r.messages).toBeGreaterThan(0);
});
