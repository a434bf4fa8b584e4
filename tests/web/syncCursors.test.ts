import { emptyMessageList, mergeStored } from "../../web/src/state/messageList";
import { SyncCursors } from "../../web/src/state/syncCursors";
import { CID, FakeSender, liveConnection, msg, storeWith, summary } from "./fakes";

describe("sync cursors", () => {
  it("covers every known chat from the highest seq the client has, then syncs only chats learned later", () => {
    const store = storeWith({
      conversations: { [CID]: summary({ lastSeq: 2 }) },
      messages: { "g:team": mergeStored(emptyMessageList, [msg(7, "bob", "c7", "g:team")], "alice") },
    });
    const sender = new FakeSender();
    const sync = new SyncCursors({ store, send: sender.send });
    expect(sync.forNewConnection()).toEqual([
      { conversationId: CID, afterSeq: 2 },
      { conversationId: "g:team", afterSeq: 7 },
    ]);
    const added = summary({ conversationId: "g:new", lastSeq: 4 });
    store.update((s) => ({ ...s, conversations: { ...s.conversations, "g:new": added } }));
    sync.syncUncovered(); // not connected yet
    expect(sender.frames).toEqual([]);
    store.update((s) => ({ ...s, connection: liveConnection }));
    sender.open = false;
    sync.syncUncovered(); // refused: still uncovered
    sender.open = true;
    sync.syncUncovered();
    sync.syncUncovered();
    expect(sender.ofType("sync")).toEqual([{ type: "sync", cursors: [{ conversationId: "g:new", afterSeq: 4 }] }]);
  });

  it("leaves out a chat the user left or was removed from (it would answer NOT_MEMBER)", () => {
    const store = storeWith({
      conversations: { [CID]: summary({ lastSeq: 2 }) },
      messages: { "g:gone": mergeStored(emptyMessageList, [msg(9, "bob", "c9", "g:gone")], "alice") },
      departed: { "g:gone": { reason: "removed", atSeq: 9 } },
    });
    const sync = new SyncCursors({ store, send: new FakeSender().send });
    expect(sync.forNewConnection()).toEqual([{ conversationId: CID, afterSeq: 2 }]);
  });
});
