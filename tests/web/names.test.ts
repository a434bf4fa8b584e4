import { Names } from "../../web/src/state/names";
import { FakeApi, flush, storeWith } from "./fakes";

describe("names", () => {
  it("looks each unknown member up once, by exact prefix, and skips known ones", async () => {
    const api = new FakeApi();
    const store = storeWith();
    const names = new Names({ store, api });
    names.resolve(["bob", "bob", "alice"]);
    names.resolve(["bob"]);
    await flush();
    expect(api.calls).toEqual(["users:bob"]);
    expect(store.getState().names).toEqual({ alice: "Alice", bob: "Bob" });
  });

  it("tries a failed lookup again the next time, and keeps only the exact user from a search", async () => {
    const api = new FakeApi();
    const store = storeWith();
    const names = new Names({ store, api });
    let fail = true;
    api.searchUsers = async (prefix) => {
      api.calls.push(`users:${prefix}`);
      if (fail) throw new Error("down");
      return [
        { userId: "bo", displayName: "Bo" },
        { userId: "bob", displayName: "Bob" },
      ].filter((u) => u.userId.startsWith(prefix));
    };
    names.resolve(["bo"]);
    await flush();
    fail = false;
    names.resolve(["bo"]);
    await flush();
    expect(api.calls).toEqual(["users:bo", "users:bo"]);
    expect(store.getState().names).toEqual({ alice: "Alice", bo: "Bo" });
    names.remember([{ userId: "bob", displayName: "Bob" }]);
    const before = store.getState();
    names.remember([{ userId: "bob", displayName: "Bob" }]);
    expect(store.getState()).toBe(before);
  });
});
