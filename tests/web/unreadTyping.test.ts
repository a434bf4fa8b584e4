import { activeTypers, TypingThrottle, typingLabel } from "../../web/src/state/typing";
import { applyReceipt, readToSend, seenBy, unreadCount } from "../../web/src/state/unread";

describe("unread counts", () => {
  it("is lastSeq − lastReadSeq, never negative", () => {
    expect(unreadCount({ lastSeq: 12, lastReadSeq: 7 })).toBe(5);
    expect(unreadCount({ lastSeq: 3, lastReadSeq: 5 })).toBe(0);
  });

  it("sends read only for the open conversation while the tab is visible", () => {
    const c = { lastSeq: 9, lastReadSeq: 4 };
    expect(readToSend(c, true, true)).toBe(9);
    expect(readToSend(c, false, true)).toBeUndefined();
    expect(readToSend(c, true, false)).toBeUndefined();
    expect(readToSend({ lastSeq: 9, lastReadSeq: 9 }, true, true)).toBeUndefined();
  });

  it("receipts only move forward", () => {
    const r1 = applyReceipt(undefined, "bob", 5);
    expect(applyReceipt(r1, "bob", 3)).toBe(r1);
    expect(applyReceipt(r1, "bob", 6)).toEqual({ bob: 6 });
    expect(seenBy({ bob: 6, carol: 2, alice: 9 }, 5, "alice")).toEqual(["bob"]);
  });
});

describe("typing", () => {
  it("throttles to one frame per 2 s per conversation", () => {
    const t = new TypingThrottle();
    expect(t.shouldSend("c1", 0)).toBe(true);
    expect(t.shouldSend("c1", 1500)).toBe(false);
    expect(t.shouldSend("c2", 1500)).toBe(true);
    expect(t.waitMs("c1", 1500)).toBe(500);
    expect(t.shouldSend("c1", 2000)).toBe(true);
  });

  it("shows typers until their time runs out", () => {
    expect(activeTypers({ bob: 5000, carol: 3000 }, 4000)).toEqual(["bob"]);
    expect(typingLabel(["Bob"])).toBe("Bob is typing…");
    expect(typingLabel(["Bob", "Carol"])).toBe("Bob and Carol are typing…");
    expect(typingLabel([])).toBe("");
  });
});
