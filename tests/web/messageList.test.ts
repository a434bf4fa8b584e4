import fc from "fast-check";
import {
  addPending,
  displayItems,
  emptyMessageList,
  lastSeqOf,
  markAccepted,
  markFailed,
  markRetrying,
  mergeHistoryPage,
  mergeStored,
  type StoredMessage,
} from "../../web/src/state/messageList";

const CID = "d:alice:bob";

function msg(seq: number, senderId = "bob", clientMessageId = `c${seq}`): StoredMessage {
  return {
    conversationId: CID,
    seq,
    senderId,
    clientMessageId,
    body: `m${seq}`,
    sentAt: 1000 + seq,
    storedAt: 2000 + seq,
  };
}

describe("message list: merge by seq", () => {
  it("orders by seq whatever the arrival order and drops repeats", () => {
    let list = mergeStored(emptyMessageList, [msg(3), msg(1)], "alice");
    list = mergeStored(list, [msg(2), msg(3), msg(1)], "alice");
    expect(list.stored.map((m) => m.seq)).toEqual([1, 2, 3]);
    expect(lastSeqOf(list)).toBe(3);
  });

  it("keeps the first copy of a seq (at-least-once delivery re-sends the same message)", () => {
    const first = mergeStored(emptyMessageList, [msg(1)], "alice");
    const again = mergeStored(first, [{ ...msg(1), body: "different" }], "alice");
    expect(again).toBe(first);
    expect(again.stored[0]!.body).toBe("m1");
  });

  it("holds for any interleaving of pushes, sync pages and duplicates", () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 10 }), { maxLength: 12 }),
        (batches) => {
          let list = emptyMessageList;
          for (const b of batches)
            list = mergeStored(
              list,
              b.map((s) => msg(s)),
              "alice",
            );
          const expected = [...new Set(batches.flat())].sort((a, b) => a - b);
          expect(list.stored.map((m) => m.seq)).toEqual(expected);
        },
      ),
    );
  });

  it("returns the same object when nothing changed, so React skips the render", () => {
    const list = mergeStored(emptyMessageList, [msg(1)], "alice");
    expect(mergeStored(list, [], "alice")).toBe(list);
    expect(mergeStored(list, [msg(1)], "alice")).toBe(list);
  });

  it("records history pages: loaded flag and whether older pages exist", () => {
    const page = mergeHistoryPage(emptyMessageList, [msg(51), msg(52)], true, "alice");
    expect(page.historyLoaded).toBe(true);
    expect(page.hasMoreBefore).toBe(true);
    const older = mergeHistoryPage(page, [msg(49), msg(50)], false, "alice");
    expect(older.stored.map((m) => m.seq)).toEqual([49, 50, 51, 52]);
    expect(older.hasMoreBefore).toBe(false);
  });
});

describe("message list: own sends", () => {
  const now = 5000;

  it("shows a send as pending, then accepted, then stored in its seq place", () => {
    let list = mergeStored(emptyMessageList, [msg(1)], "alice");
    list = addPending(list, { clientMessageId: "x1", body: "hi", now });
    expect(displayItems(list).map((i) => i.status)).toEqual(["stored", "pending"]);
    list = markAccepted(list, "x1");
    expect(displayItems(list).map((i) => i.status)).toEqual(["stored", "accepted"]);
    list = mergeStored(list, [msg(2, "alice", "x1")], "alice");
    expect(list.pending).toHaveLength(0);
    expect(displayItems(list).map((i) => `${i.status}:${i.kind === "stored" ? i.message.seq : ""}`)).toEqual([
      "stored:1",
      "stored:2",
    ]);
  });

  it("keeps pending sends after every stored message, in the order they were written", () => {
    let list = addPending(emptyMessageList, { clientMessageId: "a", body: "first", now });
    list = addPending(list, { clientMessageId: "b", body: "second", now: now + 1 });
    list = mergeStored(list, [msg(7), msg(8)], "alice");
    expect(displayItems(list).map((i) => i.key)).toEqual(["s:7", "s:8", "p:a", "p:b"]);
  });

  it("ignores an accepted that arrives after the stored message (the push won the race)", () => {
    let list = addPending(emptyMessageList, { clientMessageId: "x1", body: "hi", now });
    list = mergeStored(list, [msg(1, "alice", "x1")], "alice");
    expect(markAccepted(list, "x1")).toBe(list);
  });

  it("does not take another sender's message with the same clientMessageId for ours", () => {
    let list = addPending(emptyMessageList, { clientMessageId: "same", body: "mine", now });
    list = mergeStored(list, [msg(1, "bob", "same")], "alice");
    expect(list.pending).toHaveLength(1);
  });

  it("a failed send retries with the same clientMessageId", () => {
    let list = addPending(emptyMessageList, { clientMessageId: "x1", body: "hi", now });
    list = markFailed(list, "x1", "UNAVAILABLE");
    expect(list.pending[0]).toMatchObject({ status: "failed", error: "UNAVAILABLE" });
    list = markRetrying(list, "x1");
    expect(list.pending[0]).toMatchObject({ clientMessageId: "x1", status: "pending", body: "hi" });
    expect(list.pending[0]!.error).toBeUndefined();
  });

  it("never fails an accepted send: it is durable already", () => {
    let list = addPending(emptyMessageList, { clientMessageId: "x1", body: "hi", now });
    list = markAccepted(list, "x1");
    expect(markFailed(list, "x1", "timeout")).toBe(list);
  });

  it("does not add the same clientMessageId twice", () => {
    const list = addPending(emptyMessageList, { clientMessageId: "x1", body: "hi", now });
    expect(addPending(list, { clientMessageId: "x1", body: "hi", now })).toBe(list);
  });
});
