import { ApiError } from "../../web/src/state/api";
import { MessageHistory, OLDER_RETRY_MS, UNREAD_PAGES } from "../../web/src/state/history";
import type { StoredEntry } from "../../web/src/state/messageList";
import { CID, FakeApi, flush, msg, storeWith, summary } from "./fakes";

function setup(readUpTo?: number) {
  const api = new FakeApi();
  const store = storeWith({
    conversations: { [CID]: summary({ lastSeq: 0, lastReadSeq: 0 }) },
    ...(readUpTo === undefined ? {} : { unreadDivider: { conversationId: CID, afterSeq: readUpTo } }),
  });
  const gapPages: StoredEntry[][] = [];
  const seeded: Record<string, number>[] = [];
  const errors: unknown[] = [];
  const pauses: number[] = [];
  const history = new MessageHistory({
    store,
    api,
    pageSize: 2,
    onGapPage: (_cid, messages) => gapPages.push(messages),
    onReadPositions: (_cid, positions) => seeded.push({ ...positions }),
    onError: (err) => errors.push(err),
    sleep: async (ms) => void pauses.push(ms),
  });
  const list = () => store.getState().messages[CID]!;
  return { api, store, gapPages, seeded, errors, pauses, history, list };
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

  it("asks again for an older page that failed for want of an answer, and not for a refusal", async () => {
    const t = setup();
    t.api.history = [1, 2, 3, 4, 5].map((s) => msg(s));
    t.history.loadLatestOnce(CID);
    await flush();
    const real = t.api.messages.bind(t.api);
    const failures = [new ApiError(503, "UNAVAILABLE", "try again"), new ApiError(0, "NETWORK", "offline")];
    t.api.messages = async (...args) => {
      const f = failures.shift();
      if (f) throw f;
      return real(...args);
    };
    await t.history.loadOlder(CID);
    expect(t.pauses).toEqual(OLDER_RETRY_MS.slice(0, 2));
    expect(t.list().stored.map((m) => m.seq)).toEqual([2, 3, 4, 5]);
    expect(t.errors).toEqual([]);
    expect(t.store.getState().loadingOlder[CID]).toBe(false);
    // A refusal is shown at once; after the last pause the error is shown too.
    failures.push(new ApiError(403, "FORBIDDEN", "not a member"));
    await t.history.loadOlder(CID);
    expect(t.errors).toHaveLength(1);
    failures.push(
      ...OLDER_RETRY_MS.map(() => new ApiError(503, "UNAVAILABLE", "x")),
      new ApiError(503, "UNAVAILABLE", "x"),
    );
    await t.history.loadOlder(CID);
    expect(t.errors).toHaveLength(2);
    expect(t.pauses).toEqual([...OLDER_RETRY_MS.slice(0, 2), ...OLDER_RETRY_MS]);
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

  it("opening with more unread than a page reads back to the first unread, within a bound", async () => {
    const t = setup(1);
    t.api.history = Array.from({ length: 400 }, (_, i) => msg(i + 1));
    t.history.loadLatestOnce(CID);
    await flush();
    expect(t.list().stored[0]!.seq).toBe(1); // seq 2, the first unread, is there to put the divider before
    expect(t.api.calls).toEqual([`messages:${CID}::`, ...[399, 299, 199, 99].map((b) => `messages:${CID}:${b}:`)]);

    const far = setup(0);
    far.api.history = Array.from({ length: 1000 }, (_, i) => msg(i + 1));
    far.history.loadLatestOnce(CID);
    await flush();
    expect(far.api.calls).toHaveLength(1 + UNREAD_PAGES);
    expect(far.list().stored[0]!.seq).toBe(1000 - 2 - UNREAD_PAGES * 100 + 1);
    expect(far.list().hasMoreBefore).toBe(true);
  });
});
