import { Outbox } from "../../web/src/state/outbox";
import { defaultTimers } from "../../web/src/state/timers";
import { CID, FakeSender, liveConnection, msg, storeWith } from "./fakes";

function setup() {
  const store = storeWith({ connection: liveConnection });
  const sender = new FakeSender();
  let n = 0;
  const outbox = new Outbox({
    store,
    send: sender.send,
    timers: defaultTimers,
    now: Date.now,
    newId: () => `cm${++n}`,
    acceptTimeoutMs: 10_000,
  });
  const pending = () => store.getState().messages[CID]?.pending ?? [];
  return { store, sender, outbox, pending };
}

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

describe("outbox", () => {
  it("sends at once, and a send without an answer while connected fails after the accept timeout", () => {
    const t = setup();
    const cmid = t.outbox.add(CID, "hi");
    expect(t.sender.ofType("send")).toEqual([{ type: "send", conversationId: CID, clientMessageId: cmid, body: "hi" }]);
    expect(t.pending()[0]).toMatchObject({ clientMessageId: cmid, status: "pending" });
    jest.advanceTimersByTime(9_999);
    expect(t.pending()[0]!.status).toBe("pending");
    jest.advanceTimersByTime(1);
    expect(t.pending()[0]).toMatchObject({ status: "failed", error: "No answer from the server" });
    t.outbox.stop();
  });

  it("does not fail a send whose connection dropped: it stays pending for the next flush", () => {
    const t = setup();
    t.outbox.add(CID, "hi");
    t.store.update((s) => ({ ...s, connection: { ...liveConnection, status: "backoff" } }));
    jest.advanceTimersByTime(60_000);
    expect(t.pending()[0]!.status).toBe("pending");
    t.outbox.stop();
  });

  it("keeps a send the socket refused pending and sends it, once, on flush", () => {
    const t = setup();
    t.sender.open = false;
    const cmid = t.outbox.add(CID, "later");
    expect(t.sender.frames).toEqual([]);
    t.sender.open = true;
    t.outbox.flush();
    t.outbox.accepted(CID, cmid);
    t.outbox.flush(); // accepted: nothing is owed any more
    expect(t.sender.ofType("send").map((f) => f.clientMessageId)).toEqual([cmid]);
    expect(t.pending()[0]!.status).toBe("accepted");
    jest.advanceTimersByTime(60_000);
    expect(t.pending()[0]!.status).toBe("accepted");
  });

  it("fails a rejected send with the server's reason and retries it with the same clientMessageId", () => {
    const t = setup();
    const cmid = t.outbox.add(CID, "one");
    t.outbox.rejected(CID, cmid, "UNAVAILABLE", "queue down");
    expect(t.pending()[0]).toMatchObject({ status: "failed", error: "queue down" });
    t.outbox.retry(CID, cmid);
    expect(t.pending()[0]!.status).toBe("pending");
    expect(t.sender.ofType("send").map((f) => f.clientMessageId)).toEqual([cmid, cmid]);
    t.outbox.stop();
  });

  it("owes no answer for a send whose stored copy arrived", () => {
    const t = setup();
    const cmid = t.outbox.add(CID, "stored");
    t.outbox.stored(CID, [msg(3, "alice", cmid)]);
    jest.advanceTimersByTime(60_000);
    expect(t.pending()[0]!.status).toBe("pending"); // the message list, not the outbox, removes it
  });
});
