/**
 * GatewayRegistry: a gateway whose own registry heartbeat could not be written for more than half the registry
 * TTL may have been counted dead by its peers, which then sent it no invalidations — so it drops every cached
 * directory answer once it can write again. Regular heartbeats leave the cache alone.
 */
import { GatewayRegistry } from "../../../runtime/gateway/presence/registry";
import { fakeContext, fakeDb } from "./fakes";

function setup() {
  let now = 1_000_000;
  let failing = false;
  const { ddb } = fakeDb((cmd) => {
    if (cmd.constructor.name === "PutCommand" && failing) throw new Error("unavailable");
    return cmd.constructor.name === "QueryCommand" ? { Items: [] } : {};
  });
  const ctx = { ...fakeContext(ddb), now: () => now };
  const clears: number[] = [];
  const registry = new GatewayRegistry(ctx, {
    directory: { clear: () => clears.push(now), trustAnswersFrom: () => {} } as never,
    peers: { noteRegistry: () => {} } as never,
    connections: { restoreMissing: async () => {}, recheckOffline: async () => {} } as never,
  });
  async function advance(ms: number) {
    for (let t = 0; t < ms; t += 1_000) {
      now += 1_000;
      await jest.advanceTimersByTimeAsync(1_000);
    }
  }
  return { registry, clears, advance, ctx, fail: (f: boolean) => (failing = f) };
}

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

describe("GatewayRegistry heartbeat", () => {
  it("clears the directory after writes failed for more than half the registry TTL, and only then", async () => {
    const { registry, clears, advance, ctx, fail } = setup();
    await registry.start();
    await advance(5 * ctx.settings.heartbeatMs);
    expect(clears).toEqual([]);
    fail(true);
    await advance(Math.ceil(ctx.settings.gatewayTtlMs / 2 / ctx.settings.heartbeatMs) * ctx.settings.heartbeatMs);
    expect(clears).toEqual([]);
    fail(false);
    await advance(ctx.settings.heartbeatMs);
    expect(clears).toHaveLength(1);
    await advance(5 * ctx.settings.heartbeatMs);
    expect(clears).toHaveLength(1);
    await registry.stop();
  });
});
