/**
 * Fuzzing the live gateway over HTTP and WebSocket with fast-check (random and mutated frames and API bodies,
 * `__proto__` / `constructor` keys included), the gateway running inside the fuzzing process so prototype
 * pollution is checked where the parsing happened. With fuzz-parsers.test.ts (10,000+ in-process inputs)
 * this is well over 10,000 hostile inputs.
 */
import { once } from "node:events";
import { startLocalStack, type LocalStack } from "../../runtime/local/stack";
import { spawnTs } from "../../runtime/local/processes";

jest.setTimeout(240_000);

let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({ gateways: 0, inMemory: true });
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

test("4,000 WebSocket frames and 1,500 API requests: no crash, no 5xx, no pollution, nothing bad accepted", async () => {
  const seed = Date.now() % 1_000_000;
  const harness = spawnTs("fuzz", "tests/security/support/fuzz-gateway.ts", {
    env: { ...stack.gatewayBaseEnv, FUZZ_WS_FRAMES: "4000", FUZZ_API_REQUESTS: "1500", FUZZ_SEED: String(seed) },
  });
  const [code] = (await once(harness.child, "exit")) as [number | null];
  const out = harness.output();
  const line = /FUZZ-SUMMARY (.*)/.exec(out)?.[1];
  if (code !== 0 || !line) throw new Error(`fuzz harness exited ${code} (seed ${seed}):\n${out.slice(-4000)}`);
  const s = JSON.parse(line);
  console.log(`gateway fuzz (seed ${seed}): ${JSON.stringify(s)}`);
  expect(s.wsFrames).toBe(4000);
  expect(s.apiRequests).toBe(1500);
  expect(s.fiveXx).toEqual([]);
  expect(s.closesDuringFuzz).toEqual([]);
  expect(s.acceptedBadInput).toBe(0);
  expect(s.errorCodes.INTERNAL ?? 0).toBe(0);
  expect(s.polluted).toBe(false);
  expect(s.healthy).toBe(true);
  expect(s.logLeaks).toEqual([]);
  // Bounded under hostile input. p99 measures the gateway; the max mostly measures how long a busy 2-core
  // machine left the process unscheduled, so it only guards against a hang.
  expect(s.eventLoopP99Ms).toBeLessThan(1_000);
  expect(s.eventLoopMaxMs).toBeLessThan(10_000);
  expect(s.rssMb).toBeLessThan(600);
});
