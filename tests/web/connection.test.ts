import fc from "fast-check";
import { closeCodes } from "../../runtime/contracts/frames";
import { bannerOf } from "../../web/src/state/banner";
import { Connection, type ConnectionSnapshot, type ConnectionStatus } from "../../web/src/state/connection";
import { backoffDelay, heartbeatPlan } from "../../web/src/state/reconnectPolicy";
import { FakeSocket, readyFrame } from "./fakes";

function setup(random = () => 0.5) {
  const sockets: FakeSocket[] = [];
  const statuses: ConnectionStatus[] = [];
  const frames: string[] = [];
  let handshakeFailures = 0;
  const conn = new Connection({
    createSocket: () => {
      const s = new FakeSocket();
      sockets.push(s);
      return s;
    },
    getCursors: () => [{ conversationId: "d:alice:bob", afterSeq: 7 }],
    onFrame: (f) => frames.push(f.type),
    onSnapshot: (s: ConnectionSnapshot) => statuses.push(s.status),
    onHandshakeFailed: () => handshakeFailures++,
    random,
  });
  const last = () => sockets[sockets.length - 1]!;
  /** Opens the newest socket and completes ready → sync → synced. */
  const goLive = (heartbeatMs?: number) => {
    last().open();
    last().receive(readyFrame(heartbeatMs));
    last().receive({ type: "synced", cursors: [] });
  };
  return { conn, sockets, statuses, frames, last, goLive, handshakeFailures: () => handshakeFailures };
}

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

describe("connection state machine", () => {
  it("goes connecting → open → syncing → live and sends its cursors on ready", () => {
    const t = setup();
    t.conn.start();
    t.goLive();
    expect(t.statuses).toEqual(["connecting", "open", "syncing", "live"]);
    expect(t.last().sentOfType("sync")).toEqual([
      { type: "sync", cursors: [{ conversationId: "d:alice:bob", afterSeq: 7 }] },
    ]);
    expect(t.frames).toEqual(["ready", "synced"]);
  });

  it("reconnects with exponential backoff and full jitter, capped, and resets after ready", () => {
    const t = setup(() => 0.999);
    t.conn.start();
    const delays: number[] = [];
    for (let i = 0; i < 7; i++) {
      t.last().serverClose(1006);
      expect(t.conn.state.status).toBe("backoff");
      delays.push(t.conn.state.retryAt! - Date.now());
      const count = t.sockets.length;
      jest.advanceTimersByTime(delays[i]! - 1);
      expect(t.sockets).toHaveLength(count); // not before the delay
      jest.advanceTimersByTime(1);
      expect(t.sockets).toHaveLength(count + 1);
    }
    expect(delays).toEqual([499, 999, 1998, 3996, 7992, 9990, 9990]);
    t.goLive();
    expect(t.conn.state.attempt).toBe(0);
    t.last().serverClose(closeCodes.goingAway);
    expect(t.conn.state.retryAt! - Date.now()).toBe(499);
  });

  it("keeps every backoff delay within [0, min(cap, base·2^n))", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 50 }), fc.double({ min: 0, max: 0.999999, noNaN: true }), (n, r) => {
        const d = backoffDelay(n, () => r);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThan(Math.min(10_000, 500 * 2 ** n));
      }),
    );
  });

  it("4001 (auth expired) stops for a new login instead of retrying", () => {
    const t = setup();
    t.conn.start();
    t.goLive();
    t.last().serverClose(closeCodes.authExpired);
    expect(t.conn.state.status).toBe("unauthorized");
    jest.advanceTimersByTime(60_000);
    expect(t.sockets).toHaveLength(1);
    t.conn.reconnectNow();
    expect(t.sockets).toHaveLength(1);
  });

  it("4029 (too many connections) waits for the user rather than retrying blindly", () => {
    const t = setup();
    t.conn.start();
    t.goLive();
    t.last().serverClose(closeCodes.tooManyConnections);
    expect(t.conn.state.status).toBe("blocked");
    expect(bannerOf(t.conn.state)).toBe("blocked");
    jest.advanceTimersByTime(60_000);
    expect(t.sockets).toHaveLength(1);
    t.conn.reconnectNow();
    expect(t.sockets).toHaveLength(2);
  });

  it("pings on the heartbeat and drops a silent socket, then reconnects", () => {
    const t = setup(() => 0);
    t.conn.start();
    t.goLive(4000);
    const { pingEveryMs, deadAfterMs } = heartbeatPlan(4000);
    jest.advanceTimersByTime(pingEveryMs);
    expect(t.last().sentOfType("ping")).toHaveLength(1);
    t.last().receive({ type: "pong" });
    jest.advanceTimersByTime(pingEveryMs);
    expect(t.last().sentOfType("ping")).toHaveLength(2);
    // No more frames: the link is dead even though the socket never closed.
    const silent = t.last();
    jest.advanceTimersByTime(deadAfterMs + pingEveryMs);
    expect(silent.closedByClient).toBeDefined();
    expect(t.sockets.length).toBeGreaterThan(1);
    expect(bannerOf(t.conn.state)).toBe("reconnecting");
  });

  it("a late close from a dropped socket does not schedule a second reconnect", () => {
    const t = setup(() => 0);
    t.conn.start();
    t.goLive(4000);
    const silent = t.last();
    jest.advanceTimersByTime(heartbeatPlan(4000).deadAfterMs + heartbeatPlan(4000).pingEveryMs);
    jest.advanceTimersByTime(1);
    t.goLive(4000);
    const count = t.sockets.length;
    silent.serverClose(1006);
    expect(t.conn.state.status).toBe("live");
    jest.advanceTimersByTime(heartbeatPlan(4000).pingEveryMs);
    t.last().receive({ type: "pong" });
    expect(t.sockets).toHaveLength(count);
    expect(t.conn.state.status).toBe("live");
  });

  it("offline drops the socket, only probes slowly, and reconnects at once when online", () => {
    const t = setup();
    t.conn.start();
    t.goLive();
    t.conn.goOffline();
    expect(t.conn.state.status).toBe("offline");
    expect(bannerOf(t.conn.state)).toBe("offline");
    expect(t.sockets[0]!.closedByClient).toBeDefined();
    jest.advanceTimersByTime(9_999);
    expect(t.sockets).toHaveLength(1);
    jest.advanceTimersByTime(1);
    expect(t.sockets).toHaveLength(2); // a probe, in case navigator.onLine is wrong
    expect(bannerOf(t.conn.state)).toBe("offline");
    t.last().serverClose(1006);
    expect(t.conn.state.status).toBe("offline");
    jest.advanceTimersByTime(9_999);
    expect(t.sockets).toHaveLength(2);
    t.conn.reconnectNow();
    expect(t.sockets).toHaveLength(3);
    expect(bannerOf(t.conn.state)).toBe("reconnecting");
    t.goLive();
    expect(t.conn.state.status).toBe("live");
    expect(t.last().sentOfType("sync")).toHaveLength(1);
  });

  it("a probe that works while the browser still says offline goes live", () => {
    const t = setup();
    t.conn.start();
    t.goLive();
    t.conn.goOffline();
    jest.advanceTimersByTime(10_000);
    t.goLive();
    expect(t.conn.state).toMatchObject({ status: "live", offline: false });
    expect(bannerOf(t.conn.state)).toBeNull();
  });

  it("gives up on a socket that never becomes ready and reports handshake failures", () => {
    const t = setup(() => 0);
    t.conn.start();
    jest.advanceTimersByTime(10_000);
    expect(t.sockets[0]!.closedByClient).toBeDefined();
    expect(t.conn.state.status).toBe("backoff");
    jest.advanceTimersByTime(1);
    expect(t.sockets).toHaveLength(2);
    t.last().serverClose(1006); // refused during the handshake, e.g. a bad token
    expect(t.handshakeFailures()).toBe(1);
  });

  it("shows no banner on the first connect, and 'reconnecting' after having been live", () => {
    expect(bannerOf({ status: "connecting", attempt: 0, wasLive: false })).toBeNull();
    expect(bannerOf({ status: "backoff", attempt: 1, wasLive: false })).toBe("reconnecting");
    expect(bannerOf({ status: "syncing", attempt: 0, wasLive: true })).toBe("reconnecting");
    expect(bannerOf({ status: "live", attempt: 0, wasLive: true })).toBeNull();
  });

  it("refuses to send before the server is ready, so callers keep frames queued", () => {
    const t = setup();
    t.conn.start();
    expect(t.conn.send({ type: "ping" })).toBe(false);
    t.last().open();
    expect(t.conn.send({ type: "ping" })).toBe(false);
    t.last().receive(readyFrame());
    expect(t.conn.send({ type: "ping" })).toBe(true);
  });

  it("stop() is final", () => {
    const t = setup();
    t.conn.start();
    t.goLive();
    t.conn.stop();
    t.conn.reconnectNow();
    jest.advanceTimersByTime(60_000);
    expect(t.sockets).toHaveLength(1);
    expect(t.conn.state.status).toBe("stopped");
  });
});
