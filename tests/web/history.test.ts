import { MessageHistory } from "../../web/src/state/history";
import type { StoredMessage } from "../../web/src/state/messageList";
import { CID, FakeApi, flush, msg, storeWith, summary } from "./fakes";

function setup() {
  const api = new FakeApi();
  const store = storeWith({ conversations: { [CID]: summary({ lastSeq: 0, lastReadSeq: 0 }) } });
  const gapPages: StoredMessage[][] = [];
  const errors: unknown[] = [];
  const history = new MessageHistory({
    store,
    api,
    pageSize: 2,
    onGapPage: (_cid, messages) => gapPages.push(messages),
    onError: (err) => errors.push(err),
  });
  const list = () => store.getState().messages[CID]!;
  return { api, store, gapPages, errors, history, list };
}

describe("message history", () => {
  it("loads the latest page once, noting it in the chat list, then older pages before the first seq", async () => {
    const t = setup();
    t.api.history = [1, 2, 3, 4, 5].map((s) => msg(s));
    t.history.loadLatestOnce(CID);
    await flush();
    t.history.loadLatestOnce(CID);
    await flush();
    expect(t.api.calls).toEqual([`messages:${CID}::`]);
    expect(t.list().stored.map((m) => m.seq)).toEqual([4, 5]);
    expect(t.store.getState().conversations[CID]).toMatchObject({ lastSeq: 5, lastPreview: "m5" });
    await t.history.loadOlder(CID);
    await t.history.loadOlder(CID);
    expect(t.list().stored.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(t.list().hasMoreBefore).toBe(false);
    await t.history.loadOlder(CID); // nothing more: no request
    expect(t.api.calls).toEqual([`messages:${CID}::`, `messages:${CID}:4:`, `messages:${CID}:2:`]);
    expect(t.store.getState().loadingOlder[CID]).toBe(false);
  });

  it("fills a hole only after a loaded list, paging after the last seq it has", async () => {
    const t = setup();
    t.history.fillGapBefore(CID, undefined, [msg(9)]);
    t.api.history = [1, 2].map((s) => msg(s));
    t.history.loadLatestOnce(CID);
    await flush();
    t.history.fillGapBefore(CID, t.list(), [msg(3)]); // no hole
    expect(t.api.calls).toEqual([`messages:${CID}::`]);
    t.api.history = [1, 2, 3, 4, 5].map((s) => msg(s));
    t.history.fillGapBefore(CID, t.list(), [msg(5)]);
    await flush();
    expect(t.api.calls).toContain(`messages:${CID}::2`);
    expect(t.gapPages.map((p) => p.map((m) => m.seq))).toEqual([[3, 4, 5]]);
    expect(t.errors).toEqual([]);
  });
});
