/**
 * The peer list a connect's invalidation goes to (PeerList#peersAsOf) and the directory's trust window the
 * registry sets (GatewayRegistry#start, heartbeat gap). Together: a connect may use a peer list up to
 * peerListMaxAgeMs old instead of reading the registry, because a gateway that such a list cannot show — it
 * registered later, or came back after a heartbeat gap — caches no directory answer until every such list shows
 * it (registration + index lag + peerListMaxAgeMs + clock skew).
 */
import { CLOCK_SKEW_MS, directoryTrustDefaults, trustWindowMs } from "../../../runtime/gateway/context";
import { GatewayRegistry, PeerList } from "../../../runtime/gateway/presence/registry";
import { GATEWAY_REGISTRY } from "../../../runtime/store/connections";
import { fakeContext, fakeDb } from "./fakes";

function setup() {
  let now = 1_000_000;
  let failingPuts = false;
  const gateways = [{ gatewayId: "gw-b", internalUrl: "http://b", lastSeen: now, expiresAt: 4_000_000_000 }];
  const { ddb, sent } = fakeDb((cmd) => {
    const name = cmd.constructor.name;
    if (name === "PutCommand" && failingPuts) throw new Error("unavailable");
    if (name === "QueryCommand") {
      const input = (cmd as unknown as { input: { ExpressionAttributeValues?: Record<string, unknown> } }).input;
      const registry = Object.values(input.ExpressionAttributeValues ?? {}).includes(GATEWAY_REGISTRY);
      return { Items: registry ? gateways.map((g) => ({ connectionId: `gateway#${g.gatewayId}` })) : [] };
    }
    if (name === "BatchGetCommand") {
      const input = (cmd as unknown as { input: { RequestItems: Record<string, unknown> } }).input;
      const table = Object.keys(input.RequestItems)[0]!;
      return {
        Responses: {
          [table]: gateways.map((g) => ({
            connectionId: `gateway#${g.gatewayId}`,
            ownerGatewayId: g.gatewayId,
            internalUrl: g.internalUrl,
            lastSeen: now,
            expiresAt: g.expiresAt,
          })),
        },
      };
    }
    return {};
  });
  const ctx = { ...fakeContext(ddb), now: () => now };
  const liveness = { noteRegistry: () => {} } as never;
  const peers = new PeerList(ctx, liveness);
  const trust: number[] = [];
  const registry = new GatewayRegistry(ctx, {
    directory: { clear: () => {}, trustAnswersFrom: (ms: number) => trust.push(ms) } as never,
    peers,
    connections: { restoreMissing: async () => {}, recheckOffline: async () => {}, holds: () => true } as never,
  });
  const registryReads = () => sent.filter((c) => c.name === "BatchGetCommand").length;
  return {
    ctx,
    peers,
    registry,
    trust,
    registryReads,
    now: () => now,
    advance: (ms: number) => (now += ms),
    failPuts: (f: boolean) => (failingPuts = f),
  };
}

afterEach(() => jest.useRealTimers());

describe("PeerList#peersAsOf", () => {
  it("answers the known list while its read is at most peerListMaxAgeMs older than the record, then reads afresh", async () => {
    const { peers, registryReads, advance, now, ctx } = setup();
    expect(await peers.refreshPeers()).toEqual(["http://b"]);
    expect(registryReads()).toBe(1);
    advance(ctx.settings.peerListMaxAgeMs);
    expect(await peers.peersAsOf(now())).toEqual(["http://b"]);
    expect(registryReads()).toBe(1);
    advance(1);
    expect(await peers.peersAsOf(now())).toEqual(["http://b"]);
    expect(registryReads()).toBe(2);
  });

  it("a reaper pass's list counts from when its read started", async () => {
    const { peers, registryReads, advance, now, ctx } = setup();
    peers.noteRegistry([], now());
    advance(ctx.settings.peerListMaxAgeMs - 1);
    expect(await peers.peersAsOf(now())).toEqual([]);
    expect(registryReads()).toBe(0);
    // An older read finishing later does not replace a newer list.
    peers.noteRegistry(
      [{ ownerGatewayId: "gw-c", internalUrl: "http://c", lastSeen: now(), expiresAt: 4e9 } as never],
      0,
    );
    expect(await peers.peersAsOf(now())).toEqual([]);
  });
});

describe("GatewayRegistry: the directory's trust window", () => {
  it("is 9 s with the default settings", () => {
    expect(trustWindowMs(directoryTrustDefaults)).toBe(9_000);
  });

  it("caches nothing before registration, then nothing read before every peer's list can show it", async () => {
    jest.useFakeTimers();
    const { registry, trust, ctx, now } = setup();
    const started = now();
    await registry.start();
    const s = ctx.settings;
    expect(trust).toEqual([Infinity, started + s.indexLagMs + s.peerListMaxAgeMs + CLOCK_SKEW_MS]);
    await registry.stop();
  });

  it("after a heartbeat gap the window opens again from the write that ended it", async () => {
    jest.useFakeTimers();
    const { registry, trust, ctx, advance, now, failPuts } = setup();
    await registry.start();
    failPuts(true);
    const s = ctx.settings;
    for (let t = 0; t <= s.gatewayTtlMs / 2 + s.heartbeatMs; t += s.heartbeatMs) {
      advance(s.heartbeatMs);
      await jest.advanceTimersByTimeAsync(s.heartbeatMs);
    }
    expect(trust).toHaveLength(2);
    failPuts(false);
    advance(s.heartbeatMs);
    await jest.advanceTimersByTimeAsync(s.heartbeatMs);
    expect(trust).toHaveLength(3);
    expect(trust[2]).toBe(now() + s.indexLagMs + s.peerListMaxAgeMs + CLOCK_SKEW_MS);
    await registry.stop();
  });
});

describe("PeerList#peersAsOf under a burst of connects", () => {
  it("shares one registry read among connects whose records were written while it was young enough", async () => {
    const { peers, registryReads, advance, now, ctx } = setup();
    advance(ctx.settings.peerListMaxAgeMs * 10);
    const first = peers.peersAsOf(now());
    advance(10);
    const second = peers.peersAsOf(now()); // the read in flight started 10 ms before: young enough
    expect(await Promise.all([first, second])).toEqual([["http://b"], ["http://b"]]);
    advance(ctx.settings.peerListMaxAgeMs - 10);
    await peers.peersAsOf(now());
    expect(registryReads()).toBe(1);
  });
});
