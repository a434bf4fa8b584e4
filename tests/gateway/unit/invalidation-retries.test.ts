/**
 * InvalidationRetries: a connect's invalidation that a peer missed is sent again until every live peer
 * acknowledged it, in rounds shared by all pending connections (one registry read, one request per peer), and
 * stops for a closed connection, a stopped gateway, a peer that left the registry, or after the last pause.
 */
import { INVALIDATION_RETRY_MS, InvalidationRetries } from "../../../runtime/gateway/presence/invalidation-retries";
import { fakeContext } from "./fakes";

function setup(initialPeers: string[]) {
  let now = 1_000_000;
  const ctx = { ...fakeContext({}), now: () => now };
  const state = {
    peers: initialPeers,
    /** Peers that answer. */
    up: new Set<string>(),
    open: new Set<string>(),
    registryReads: 0,
    requests: [] as { peer: string; userIds: readonly string[] }[],
  };
  const retries = new InvalidationRetries(ctx, {
    peers: {
      refreshPeers: async () => {
        state.registryReads++;
        return state.peers;
      },
    },
    peerClient: {
      unacknowledged: async (peers, what) => {
        for (const peer of peers) state.requests.push({ peer, userIds: what.userIds ?? [] });
        return peers.filter((p) => !state.up.has(p));
      },
    },
    holds: (id) => state.open.has(id),
  });
  /** Advances the clock and the timers by `ms`, letting each round's promises settle. */
  async function advance(ms: number) {
    const step = 100;
    for (let t = 0; t < ms; t += step) {
      now += step;
      await jest.advanceTimersByTimeAsync(step);
    }
  }
  const add = (connectionId: string, userId: string, acked: string[] = []) => {
    state.open.add(connectionId);
    let result: boolean | undefined;
    const p = retries.add(connectionId, userId, acked).then((r) => (result = r));
    return { p, result: () => result };
  };
  return { retries, state, advance, add };
}

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

describe("InvalidationRetries", () => {
  it("reaches a peer that answers again, in one round for every pending connection", async () => {
    const { state, advance, add } = setup(["http://b", "http://c"]);
    const pending = [add("c1", "u1", ["http://c"]), add("c2", "u2", ["http://c"]), add("c3", "u1", ["http://c"])];
    state.up.add("http://c");
    await advance(INVALIDATION_RETRY_MS[0] - 200);
    expect(state.requests).toEqual([]);
    state.up.add("http://b");
    await advance(400);
    // One registry read, one request to the peer that missed it naming each user once; none to the one that had it.
    expect(state.registryReads).toBe(1);
    expect(state.requests).toEqual([{ peer: "http://b", userIds: ["u1", "u2"] }]);
    expect(pending.map((x) => x.result())).toEqual([true, true, true]);
  });

  it("keeps asking after the pauses and gives up after the last one", async () => {
    const { state, advance, add } = setup(["http://b"]);
    const x = add("c1", "u1");
    const total = INVALIDATION_RETRY_MS.reduce((a, b) => a + b, 0);
    await advance(total - 500);
    expect(x.result()).toBeUndefined();
    expect(state.requests.length).toBe(INVALIDATION_RETRY_MS.length - 1);
    await advance(1_000);
    expect(state.requests.length).toBe(INVALIDATION_RETRY_MS.length);
    expect(x.result()).toBe(false);
    await advance(200_000);
    expect(state.requests.length).toBe(INVALIDATION_RETRY_MS.length);
  });

  it("is reached once the silent peer has left the registry, and asks a peer that joined", async () => {
    const { state, advance, add } = setup(["http://dead"]);
    const x = add("c1", "u1");
    await advance(INVALIDATION_RETRY_MS[0] + 200);
    expect(x.result()).toBeUndefined();
    state.peers = ["http://new"];
    state.up.add("http://new");
    await advance(INVALIDATION_RETRY_MS[1] + 200);
    expect(state.requests.map((r) => r.peer)).toEqual(["http://dead", "http://new"]);
    expect(x.result()).toBe(true);
  });

  it("stops for a closed connection without a request, and settles every retry on stop", async () => {
    const { retries, state, advance, add } = setup(["http://b"]);
    const closed = add("c1", "u1");
    const open = add("c2", "u2");
    state.open.delete("c1");
    await advance(INVALIDATION_RETRY_MS[0] + 200);
    expect(closed.result()).toBe(false);
    expect(state.requests).toEqual([{ peer: "http://b", userIds: ["u2"] }]);
    await retries.stop();
    await advance(0);
    await open.p;
    expect(open.result()).toBe(false);
    expect(retries.size).toBe(0);
    await advance(INVALIDATION_RETRY_MS[1] + 200);
    expect(state.requests.length).toBe(1);
  });
});
