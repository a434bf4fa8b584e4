import { ReadReceipts } from "../../web/src/state/receipts";
import { CID, FakeSender, storeWith, summary } from "./fakes";

function setup(visible = true) {
  const store = storeWith({ conversations: { [CID]: summary({ lastSeq: 5, lastReadSeq: 2 }) } });
  const sender = new FakeSender();
  const looked: string[] = [];
  let isVisible = visible;
  const receipts = new ReadReceipts({
    store,
    send: sender.send,
    names: { resolve: (ids) => looked.push(...ids) },
    isVisible: () => isVisible,
  });
  const conv = () => store.getState().conversations[CID]!;
  return { store, sender, looked, receipts, conv, show: () => (isVisible = true) };
}

describe("read receipts", () => {
  it("reads the open, visible chat up to its last seq and tells the server once per change", () => {
    const t = setup();
    t.receipts.markOpenRead(); // nothing open
    expect(t.sender.frames).toEqual([]);
    t.store.update((s) => ({ ...s, openConversationId: CID }));
    t.receipts.markOpenRead();
    t.receipts.markOpenRead();
    expect(t.conv().lastReadSeq).toBe(5);
    expect(t.sender.ofType("read")).toEqual([{ type: "read", conversationId: CID, seq: 5 }]);
    t.receipts.reconnected();
    t.receipts.markOpenRead();
    expect(t.sender.ofType("read")).toHaveLength(2);
  });

  it("keeps the badge while the tab is hidden, and retries a read the socket refused", () => {
    const t = setup(false);
    t.store.update((s) => ({ ...s, openConversationId: CID }));
    t.receipts.markOpenRead();
    expect(t.conv().lastReadSeq).toBe(2);
    t.show();
    t.sender.open = false;
    t.receipts.markOpenRead();
    expect(t.conv().lastReadSeq).toBe(5);
    t.sender.open = true;
    t.receipts.markOpenRead();
    expect(t.sender.ofType("read")).toEqual([{ type: "read", conversationId: CID, seq: 5 }]);
  });

  it("moves our own badge forward from another device, and records other members' receipts forward only", () => {
    const t = setup();
    t.receipts.received(CID, "alice", 4);
    t.receipts.received(CID, "alice", 3);
    expect(t.conv().lastReadSeq).toBe(4);
    t.receipts.received(CID, "bob", 3);
    t.receipts.received(CID, "bob", 1);
    expect(t.store.getState().receipts[CID]).toEqual({ bob: 3 });
    expect(t.looked).toEqual(["bob", "bob"]);
  });
});
