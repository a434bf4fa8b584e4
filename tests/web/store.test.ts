import { emptyMessageList } from "../../web/src/state/messageList";
import { changeList } from "../../web/src/state/store";
import { CID, storeWith } from "./fakes";

describe("chat store", () => {
  it("notifies listeners of a change, not of a no-op, and stops after unsubscribe", () => {
    const store = storeWith();
    let calls = 0;
    const unsubscribe = store.subscribe(() => calls++);
    const before = store.getState();
    store.update((s) => s);
    expect(calls).toBe(0);
    expect(store.getState()).toBe(before);
    store.update((s) => ({ ...s, openConversationId: CID }));
    expect(calls).toBe(1);
    expect(store.getState().openConversationId).toBe(CID);
    unsubscribe();
    store.update((s) => ({ ...s, openConversationId: null }));
    expect(calls).toBe(1);
  });

  it("starts with the user's own name known, and changes one message list at a time", () => {
    const store = storeWith();
    expect(store.getState().names).toEqual({ alice: "Alice" });
    const before = store.getState();
    store.update(changeList(CID, (l) => l));
    expect(store.getState()).toBe(before);
    store.update(changeList(CID, (l) => ({ ...l, historyLoaded: true })));
    expect(store.getState().messages[CID]).toEqual({ ...emptyMessageList, historyLoaded: true });
  });
});
