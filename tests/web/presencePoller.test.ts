import { ApiError } from "../../web/src/state/api";
import { PresencePoller } from "../../web/src/state/presencePoller";
import { defaultTimers } from "../../web/src/state/timers";
import { CID, FakeApi, flush, liveConnection, storeWith, summary } from "./fakes";

function setup() {
  const api = new FakeApi();
  const store = storeWith({
    connection: liveConnection,
    conversations: {
      [CID]: summary(),
      "g:team": summary({ conversationId: "g:team", memberIds: ["alice", "bob", "carol"] }),
    },
  });
  const errors: unknown[] = [];
  let visible = true;
  const poller = new PresencePoller({
    store,
    api,
    timers: defaultTimers,
    isVisible: () => visible,
    onError: (err) => errors.push(err),
  });
  return { api, store, errors, poller, hide: () => (visible = false) };
}

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

describe("presence poller", () => {
  it("reads the presence of everyone the user shares a chat with, once each, never the user", async () => {
    const t = setup();
    const asked: string[][] = [];
    t.api.presence = async (ids) => {
      asked.push(ids);
      return ids.map((userId) => ({ userId, online: true, lastSeen: 5 }));
    };
    await t.poller.load();
    expect(asked).toEqual([["bob", "carol"]]);
    expect(Object.keys(t.store.getState().presence).sort()).toEqual(["bob", "carol"]);
    t.poller.received({ userId: "bob", online: false, lastSeen: 9 });
    expect(t.store.getState().presence.bob).toEqual({ userId: "bob", online: false, lastSeen: 9 });
  });

  it("re-reads every 30 s only while live and visible", async () => {
    const t = setup();
    t.poller.start();
    jest.advanceTimersByTime(30_000);
    await flush();
    expect(t.api.calls.filter((c) => c === "presence")).toHaveLength(1);
    t.hide();
    jest.advanceTimersByTime(30_000);
    await flush();
    expect(t.api.calls.filter((c) => c === "presence")).toHaveLength(1);
    t.poller.stop();
  });

  it("hands a failed read to the caller", async () => {
    const t = setup();
    const refused = new ApiError(401, "UNAUTHENTICATED", "expired");
    t.api.presence = () => Promise.reject(refused);
    await t.poller.load();
    expect(t.errors).toEqual([refused]);
  });
});
