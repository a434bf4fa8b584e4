/**
 * Unit tests of one socket's outgoing order: gap fill from the table, repeat suppression, catch-up since the
 * socket opened, the slow-consumer close and the heartbeat, with a fake socket and a fake table.
 */
import { EventEmitter } from "node:events";
import { Session } from "../../../runtime/gateway/ws-session";
import { sleep, waitUntil } from "../../support/timing";
import { fakeContext, fakeDb } from "./fakes";

/** Just enough of a ws WebSocket for Session. */
class FakeSocket extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  readonly sent: string[] = [];
  closedWith?: number;
  send(text: string) {
    this.sent.push(text);
  }
  close(code: number) {
    this.closedWith = code;
  }
  terminated = false;
  pings = 0;
  terminate() {
    this.terminated = true;
  }
  ping() {
    this.pings++;
  }
}

describe("Session outgoing order", () => {
  const conv = "d:alice:bob1";
  const stored = (seq: number) => ({
    conversationId: conv,
    seq,
    senderId: "alice",
    clientMessageId: `m${seq}`,
    body: `b${seq}`,
    sentAt: 1,
    storedAt: Date.now(),
  });

  function session(table: number[], reorderWaitMs?: number) {
    const { ddb, sent } = fakeDb((cmd) => {
      if (cmd.constructor.name !== "QueryCommand") return {};
      const values = cmd.input.ExpressionAttributeValues as Record<string, number>;
      const forward = cmd.input.ScanIndexForward !== false;
      let items = table.filter((s) => (values[":after"] !== undefined ? s > values[":after"] : true));
      if (values[":before"] !== undefined) items = items.filter((s) => s < values[":before"]!);
      if (!forward) items = items.reverse();
      return { Items: items.slice(0, cmd.input.Limit as number).map(stored) };
    });
    const ws = new FakeSocket();
    const base = fakeContext(ddb);
    const ctx = reorderWaitMs === undefined ? base : { ...base, settings: { ...base.settings, reorderWaitMs } };
    const s = new Session(ctx, {} as never, ws as never, "bob1", Math.floor(Date.now() / 1000) + 3600);
    return { s, ws, sent };
  }
  const seqsSent = (ws: FakeSocket) => ws.sent.map((t) => JSON.parse(t).seq);
  const settle = () => sleep(20);

  it("fills a gap from the table and drops repeats", async () => {
    const { s, ws } = session([1, 2, 3, 4]);
    s.pushMessage({ conversationId: conv, seq: 1 }, JSON.stringify(stored(1)));
    s.pushMessage({ conversationId: conv, seq: 3 }, JSON.stringify(stored(3))); // 2 overtaken
    s.pushMessage({ conversationId: conv, seq: 2 }, JSON.stringify(stored(2))); // late: already filled
    s.pushMessage({ conversationId: conv, seq: 4 }, JSON.stringify(stored(4)));
    s.pushMessage({ conversationId: conv, seq: 4 }, JSON.stringify(stored(4))); // redelivered notification
    await settle();
    expect(seqsSent(ws)).toEqual([1, 2, 3, 4]);
  });

  it("retries a gap fill that finds a hole (eventually consistent reads) instead of skipping the seq", async () => {
    const table = [1, 3];
    const { s, ws, sent } = session(table, 0);
    s.pushMessage({ conversationId: conv, seq: 1 }, JSON.stringify(stored(1)));
    s.pushMessage({ conversationId: conv, seq: 4 }, JSON.stringify(stored(4)));
    await settle();
    table.splice(1, 0, 2); // seq 2 becomes visible to reads
    await sleep(400);
    expect(seqsSent(ws)).toEqual([1, 2, 3, 4]);
    expect(sent.filter((c) => c.name === "QueryCommand").length).toBeGreaterThanOrEqual(2);
  });

  it("holds a message that overtook a missing seq until it arrives live: in order, no table read", async () => {
    const { s, ws, sent } = session([1, 2, 3, 4, 5]);
    const queries = () => sent.filter((c) => c.name === "QueryCommand").length;
    s.pushMessage({ conversationId: conv, seq: 1 }, JSON.stringify(stored(1)));
    s.pushMessage({ conversationId: conv, seq: 4 }, JSON.stringify(stored(4)));
    s.pushMessage({ conversationId: conv, seq: 3 }, JSON.stringify(stored(3)));
    await settle();
    expect(seqsSent(ws)).toEqual([1]); // 3 and 4 wait for 2
    s.pushMessage({ conversationId: conv, seq: 2 }, JSON.stringify(stored(2)));
    s.pushMessage({ conversationId: conv, seq: 3 }, JSON.stringify(stored(3))); // a repeat of a held one
    s.pushMessage({ conversationId: conv, seq: 5 }, JSON.stringify(stored(5)));
    await sleep(300);
    expect(seqsSent(ws)).toEqual([1, 2, 3, 4, 5]);
    expect(queries()).toBe(0);
  });

  it("fills the gap from the table once the wait is over if the missing seq never arrives live", async () => {
    const { s, ws, sent } = session([1, 2, 3, 4], 500);
    s.pushMessage({ conversationId: conv, seq: 1 }, JSON.stringify(stored(1)));
    s.pushMessage({ conversationId: conv, seq: 4 }, JSON.stringify(stored(4)));
    s.pushMessage({ conversationId: conv, seq: 3 }, JSON.stringify(stored(3)));
    await sleep(50);
    expect(seqsSent(ws)).toEqual([1]);
    await waitUntil(() => ws.sent.length === 4, { what: "the gap filled" });
    expect(seqsSent(ws)).toEqual([1, 2, 3, 4]);
    expect(sent.filter((c) => c.name === "QueryCommand").length).toBe(1);
    // Later messages go the fast way again.
    s.pushMessage({ conversationId: conv, seq: 5 }, JSON.stringify(stored(5)));
    expect(seqsSent(ws)).toEqual([1, 2, 3, 4, 5]);
  });

  it("without a cursor, first sends what was stored since the socket opened", async () => {
    const { s, ws } = session([1, 2, 3]);
    s.pushMessage({ conversationId: conv, seq: 3 }, JSON.stringify(stored(3)));
    s.pushMessage({ conversationId: conv, seq: 2 }, JSON.stringify(stored(2)));
    await settle();
    expect(seqsSent(ws)).toEqual([1, 2, 3]);
  });

  it("closes a slow consumer with 4008 instead of buffering without bound", () => {
    const { s, ws } = session([]);
    ws.bufferedAmount = 10 * 1024 * 1024;
    s.push("{}");
    expect(ws.closedWith).toBe(4008);
    expect(ws.sent).toEqual([]);
  });

  const nextPollPhase = () => new Promise((r) => setImmediate(r));

  it("terminates a peer that did not answer the previous ping", async () => {
    const { s, ws } = session([]);
    s.heartbeat();
    ws.emit("pong");
    s.heartbeat();
    expect([ws.pings, ws.terminated]).toEqual([2, false]);
    s.heartbeat(); // no pong since the last ping
    await nextPollPhase();
    expect([ws.pings, ws.terminated]).toEqual([2, true]);
  });

  it("counts a pong that was already received when the timer ran late (an event-loop stall), and pings again", async () => {
    const { s, ws } = session([]);
    s.heartbeat();
    s.heartbeat(); // the timer ran before the socket's pending input was read…
    ws.emit("pong"); // …which the poll phase then reads
    await nextPollPhase();
    expect([ws.pings, ws.terminated]).toEqual([2, false]);
  });
});
