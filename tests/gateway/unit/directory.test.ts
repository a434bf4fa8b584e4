/**
 * ConnectionDirectory caching against an eventually consistent byUser index: an answer read within indexLagMs of
 * the user's invalidation may predate the change (AWS GSIs lag writes; dynalite never does, so only a fake
 * shows it) and is kept only until the lag has passed, not for the directory TTL; later answers are cached as before.
 */
import { ConnectionDirectory } from "../../../runtime/gateway/delivery/directory";
import { fakeContext, fakeDb } from "./fakes";

/** The byUser index as the fake shows it: these connections of this gateway (gw-a). */
function setup(indexed: string[] = []) {
  let now = 1_000_000;
  const items = () =>
    indexed.map((connectionId) => ({
      connectionId,
      userId: "u",
      gatewayId: "gw-a",
      internalUrl: "http://127.0.0.1:1",
      connectedAt: 1,
    }));
  const { ddb, sent } = fakeDb((cmd) => (cmd.constructor.name === "QueryCommand" ? { Items: items() } : {}));
  const ctx = { ...fakeContext(ddb), now: () => now };
  const directory = new ConnectionDirectory(ctx);
  const queries = () => sent.filter((c) => c.name === "QueryCommand").length;
  return { directory, queries, advance: (ms: number) => (now += ms), ctx };
}

describe("ConnectionDirectory#ofUser", () => {
  it("caches an answer for the TTL", async () => {
    const { directory, queries, advance } = setup();
    await directory.ofUser("u");
    advance(60_000);
    await directory.ofUser("u");
    expect(queries()).toBe(1);
  });

  it("keeps an answer read within the index lag of an invalidation only until the lag has passed", async () => {
    const { directory, queries, advance, ctx } = setup();
    await directory.ofUser("u");
    directory.invalidate("u");
    advance(100);
    await directory.ofUser("u");
    advance(ctx.settings.indexLagMs - 200);
    await directory.ofUser("u");
    expect(queries()).toBe(2);
    advance(100);
    await directory.ofUser("u");
    expect(queries()).toBe(3);
    // Read after the lag: kept for the TTL.
    advance(60_000);
    await directory.ofUser("u");
    expect(queries()).toBe(3);
    // Another user's invalidation does not affect this one's entry.
    directory.invalidate("v");
    await directory.ofUser("u");
    expect(queries()).toBe(3);
  });

  it("keeps an answer read within the lag for the TTL when it already shows every change named", async () => {
    const indexed: string[] = [];
    const { directory, queries, advance } = setup(indexed);
    indexed.push("c1");
    directory.invalidate("u", [{ userId: "u", connectionId: "c1", open: true }]);
    advance(100);
    expect((await directory.ofUser("u")).map((c) => c.connectionId)).toEqual(["c1"]);
    advance(60_000);
    await directory.ofUser("u");
    expect(queries()).toBe(1);
    // A close the index does not show yet: kept only until the lag has passed.
    directory.invalidate("u", [{ userId: "u", connectionId: "c1", open: false }]);
    await directory.ofUser("u");
    advance(60_000);
    await directory.ofUser("u");
    expect(queries()).toBe(3);
  });

  it("treats changes as unknown once an invalidation within the lag did not name its change", async () => {
    const { directory, queries, advance } = setup(["c1"]);
    directory.invalidate("u");
    directory.invalidate("u", [{ userId: "u", connectionId: "c1", open: true }]);
    await directory.ofUser("u");
    advance(60_000);
    await directory.ofUser("u");
    expect(queries()).toBe(2);
  });
});

describe("ConnectionDirectory#trustAnswersFrom", () => {
  it("answers read before the trust point are used but not cached; later ones are", async () => {
    const { directory, queries, advance } = setup(["c1"]);
    directory.trustAnswersFrom(1_000_000 + 5_000);
    expect((await directory.ofUser("u")).map((c) => c.connectionId)).toEqual(["c1"]);
    advance(4_999);
    await directory.ofUser("u");
    expect(queries()).toBe(2);
    advance(1);
    await directory.ofUser("u");
    await directory.ofUser("u");
    expect(queries()).toBe(3);
  });

  it("Infinity caches nothing (a gateway not registered yet)", async () => {
    const { directory, queries } = setup();
    directory.trustAnswersFrom(Infinity);
    await directory.ofUser("u");
    await directory.ofUser("u");
    expect(queries()).toBe(2);
  });
});
