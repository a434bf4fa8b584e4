import { clearTypers, TypingIndicators } from "../../web/src/state/typingIndicators";
import { defaultTimers } from "../../web/src/state/timers";
import { CID, FakeSender, storeWith } from "./fakes";

function setup() {
  const store = storeWith();
  const sender = new FakeSender();
  const looked: string[] = [];
  const typing = new TypingIndicators({
    store,
    send: sender.send,
    names: { resolve: (ids) => looked.push(...ids) },
    timers: defaultTimers,
    now: Date.now,
  });
  return { store, sender, looked, typing };
}

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

describe("typing indicators", () => {
  it("shows another member typing until it expires, looks up their name, and ignores our own echo", () => {
    const t = setup();
    t.typing.received(CID, "alice");
    expect(t.store.getState().typing).toEqual({});
    t.typing.received(CID, "bob");
    expect(Object.keys(t.store.getState().typing[CID]!)).toEqual(["bob"]);
    expect(t.looked).toEqual(["bob"]);
    jest.advanceTimersByTime(2000);
    t.typing.received(CID, "carol");
    jest.advanceTimersByTime(2100);
    expect(Object.keys(t.store.getState().typing[CID]!)).toEqual(["carol"]);
    jest.advanceTimersByTime(2100);
    expect(t.store.getState().typing[CID]).toEqual({});
    t.typing.stop();
  });

  it("sends one frame per window and owes a trailing one, which a stop cancels", () => {
    const t = setup();
    t.typing.notify(CID);
    t.typing.notify(CID);
    expect(t.sender.ofType("typing")).toHaveLength(1);
    jest.advanceTimersByTime(2000 + 250);
    expect(t.sender.ofType("typing")).toHaveLength(2);
    t.typing.notify(CID);
    t.typing.notify(CID, false);
    jest.advanceTimersByTime(5000);
    expect(t.sender.ofType("typing")).toHaveLength(2);
    t.typing.stop();
  });

  it("clears the typers whose message arrived, and nothing else", () => {
    const t = setup();
    t.typing.received(CID, "bob");
    t.typing.received(CID, "carol");
    const before = t.store.getState();
    expect(clearTypers(CID, new Set(["dave"]))(before)).toBe(before);
    expect(Object.keys(clearTypers(CID, new Set(["bob"]))(before).typing[CID]!)).toEqual(["carol"]);
    t.typing.stop();
  });
});
