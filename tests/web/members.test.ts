import { memberRows } from "../../web/src/state/members";

describe("memberRows", () => {
  const names = { alice: "Alice", bob: "Bob", carol: "Carol", dan: "Dan" };

  it("lists yourself first, then those online, then the rest, each by name, with what presence is known", () => {
    const rows = memberRows({ memberIds: ["dan", "carol", "bob", "alice", "eve"] }, "carol", names, {
      alice: { userId: "alice", online: false, lastSeen: 1_000 },
      bob: { userId: "bob", online: true, lastSeen: 2_000 },
      dan: { userId: "dan", online: true, lastSeen: 3_000 },
      carol: { userId: "carol", online: false, lastSeen: 0 },
    });
    expect(rows).toEqual([
      { userId: "carol", name: "Carol", me: true, online: true },
      { userId: "bob", name: "Bob", me: false, online: true },
      { userId: "dan", name: "Dan", me: false, online: true },
      { userId: "alice", name: "Alice", me: false, online: false, lastSeen: 1_000 },
      // No name resolved and no presence read yet: the id, and no dot.
      { userId: "eve", name: "eve", me: false, online: undefined },
    ]);
  });
});
