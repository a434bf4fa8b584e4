import {
  addChange,
  displayItems,
  emptyMessageList,
  lastSeqOf,
  mergeHistoryPage,
  mergeStored,
  noteSeq,
  type StoredEntry,
  type StoredEvent,
  type StoredMessage,
} from "../../web/src/state/messageList";
import { canEdit, errorText, membershipOf, summaryAfter, systemText, EDIT_WINDOW_MS } from "../../web/src/state/events";
import { timeline } from "../../web/src/state/timeline";
import { mergeSummaries, noteStored } from "../../web/src/state/chatList";
import { CID, msg, storeWith, summary } from "./fakes";

const G = "g:team1234";
const base = (seq: number, senderId: string) => ({
  conversationId: CID,
  seq,
  senderId,
  clientMessageId: `e${seq}`,
  sentAt: 5000 + seq,
  storedAt: 5000 + seq,
});
const edit = (seq: number, target: number, body: string, by = "bob"): StoredEvent => ({
  ...base(seq, by),
  kind: "edit",
  target,
  body,
});
const del = (seq: number, target: number, by = "bob"): StoredEvent => ({ ...base(seq, by), kind: "delete", target });
const react = (seq: number, target: number, emoji: string, on: boolean, by = "bob"): StoredEvent => ({
  ...base(seq, by),
  kind: "react",
  target,
  emoji,
  on,
});
const list = (...entries: StoredEntry[]) => mergeStored(emptyMessageList, entries, "alice");
const bodies = (l: typeof emptyMessageList) => l.stored.map((m) => `${m.seq}:${m.deleted ? "<deleted>" : m.body}`);

describe("the log's events applied to the timeline", () => {
  it("applies edits, deletes and reactions to their target in seq order and shows none of them as rows", () => {
    let l = list(msg(1), msg(2, "alice"));
    l = mergeStored(l, [react(5, 1, "👍", true, "carol"), edit(3, 1, "m1 fixed"), react(4, 1, "👍", true)], "alice");
    expect(bodies(l)).toEqual(["1:m1 fixed", "2:m2"]);
    expect(l.stored[0]).toMatchObject({ editedAt: 5003, rev: 5, reactions: { "👍": ["bob", "carol"] } });
    l = mergeStored(l, [react(6, 1, "👍", false)], "alice");
    expect(l.stored[0]!.reactions).toEqual({ "👍": ["carol"] });
    l = mergeStored(l, [react(7, 1, "👍", false, "carol")], "alice");
    expect(l.stored[0]!.reactions).toBeUndefined(); // nobody left on it: the chip goes
    l = mergeStored(l, [del(8, 1)], "alice");
    expect(l.stored[0]).toMatchObject({ body: "", deleted: true, rev: 8 });
    expect(displayItems(l).map((i) => i.key)).toEqual(["s:1", "s:2"]);
    expect(lastSeqOf(l)).toBe(8); // every entry moves the cursor
  });

  it("skips a replayed event at or below the message's rev, and a repeat changes nothing", () => {
    // History gives the message in its current state: two edits in, rev 4.
    const current: StoredMessage = { ...msg(1), body: "second", editedAt: 5004, rev: 4, edits: [3, 4] };
    const l = mergeHistoryPage(emptyMessageList, [current, edit(3, 1, "first"), edit(4, 1, "second")], false, "alice");
    expect(bodies(l)).toEqual(["1:second"]);
    // A sync replays the same events: nothing moves back.
    expect(mergeStored(l, [edit(3, 1, "first"), edit(4, 1, "second")], "alice")).toBe(l);
    // The same reaction delivered twice counts once.
    const r = mergeStored(l, [react(5, 1, "🎉", true)], "alice");
    expect(mergeStored(r, [react(5, 1, "🎉", true)], "alice")).toBe(r);
    expect(r.stored[0]!.reactions).toEqual({ "🎉": ["bob"] });
  });

  it("keeps the copy of a message that includes more of the log, whichever arrives first", () => {
    const live = mergeStored(list(msg(1)), [edit(3, 1, "live edit")], "alice"); // rev 3 locally
    const stale = mergeStored(live, [{ ...msg(1), rev: 1 }], "alice"); // an older page read before the edit
    expect(stale).toBe(live);
    const newer = mergeStored(live, [{ ...msg(1), body: "later", editedAt: 9, rev: 6 }], "alice");
    expect(bodies(newer)).toEqual(["1:later"]);
    expect(mergeStored(newer, [edit(3, 1, "live edit")], "alice")).toBe(newer);
  });

  it("drops an event whose target is not loaded (it comes in its current state when it is) and ignores unknown kinds", () => {
    const l = list(msg(10));
    const after = mergeStored(
      l,
      [edit(11, 4, "not here"), { ...base(12, "bob"), kind: "poll" } as unknown as StoredEntry],
      "alice",
    );
    expect(bodies(after)).toEqual(["10:m10"]);
    expect(after.lastSeq).toBe(12);
    expect(after.firstSeq).toBe(10);
    expect(noteSeq(after, 13).lastSeq).toBe(13);
    expect(noteSeq(after, 3)).toBe(after);
  });

  it("updates the quote of replies when their message is edited or deleted", () => {
    const reply: StoredMessage = { ...msg(2, "alice"), replyTo: { seq: 1, senderId: "bob", preview: "m1" } };
    let l = list(msg(1), reply);
    l = mergeStored(l, [edit(3, 1, "m1 but better")], "alice");
    expect(l.stored[1]!.replyTo).toEqual({ seq: 1, senderId: "bob", preview: "m1 but better" });
    l = mergeStored(l, [del(4, 1)], "alice");
    expect(l.stored[1]!.replyTo).toEqual({ seq: 1, senderId: "bob", deleted: true });
    expect(l.stored[1]!.body).toBe("m2"); // the reply itself stays
  });

  it("shows membership and title changes as system lines between the messages, once each, ending a run", () => {
    const add: StoredEvent = { ...base(2, "alice"), conversationId: G, kind: "add", userIds: ["carol"] };
    const rename: StoredEvent = { ...base(4, "bob"), conversationId: G, kind: "rename", title: "Crew" };
    const l = mergeStored(
      emptyMessageList,
      [msg(3, "bob", "c3", G), rename, msg(1, "bob", "c1", G), add, add],
      "alice",
    );
    const items = displayItems(l);
    expect(items.map((i) => i.key)).toEqual(["s:1", "e:2", "s:3", "e:4"]);
    const rows = timeline(items, "alice", null, 6000).filter((r) => r.kind !== "day");
    expect(rows.map((r) => (r.kind === "message" ? `${r.groupStart ? "+" : "-"}${r.senderId}` : r.kind))).toEqual([
      "+bob",
      "system",
      "+bob", // same sender a second later, but after a system line: a new header
      "system",
    ]);
  });

  it("shows the user's own changes at once, until their event is stored", () => {
    let l = list(msg(1, "alice", "mine"), msg(2));
    l = addChange(l, {
      frame: { type: "edit", conversationId: CID, clientMessageId: "x1", seq: 1, body: "new" },
      now: 7,
    });
    l = addChange(l, {
      frame: { type: "react", conversationId: CID, clientMessageId: "x2", seq: 2, emoji: "❤️", on: true },
      now: 8,
    });
    const shown = displayItems(l, "alice").flatMap((i) => (i.kind === "stored" ? [i.message] : []));
    expect(shown.map((m) => m.body)).toEqual(["new", "m2"]);
    expect(shown[0]!.editedAt).toBe(7);
    expect(shown[1]!.reactions).toEqual({ "❤️": ["alice"] });
    expect(l.stored[0]!.body).toBe("m1"); // the stored state is untouched
    // The stored edit replaces the pending change.
    l = mergeStored(l, [{ ...edit(3, 1, "new", "alice"), clientMessageId: "x1" }], "alice");
    expect(l.changes.map((c) => c.clientMessageId)).toEqual(["x2"]);
    expect(l.stored[0]!.body).toBe("new");
  });
});

describe("what the changes read as", () => {
  const names = { alice: "Alice", bob: "Bob", carol: "Carol", dan: "Dan" };
  const e = <K extends string>(kind: K, more: object) =>
    ({ ...base(3, "alice"), conversationId: G, kind, ...more }) as unknown as Parameters<typeof systemText>[0];

  it("names who did what, with You for the user", () => {
    expect(systemText(e("add", { userIds: ["carol"] }), "bob", names)).toBe("Alice added Carol");
    expect(systemText(e("add", { userIds: ["carol", "dan", "bob"] }), "bob", names)).toBe(
      "Alice added Carol, Dan and you",
    );
    expect(systemText(e("remove", { userId: "carol" }), "alice", names)).toBe("You removed Carol");
    expect(systemText({ ...e("leave", {}), senderId: "bob" }, "alice", names)).toBe("Bob left");
    expect(systemText(e("rename", { title: "Crew" }), "bob", names)).toBe("Alice renamed the group to Crew");
    expect(systemText(e("remove", { userId: "zed" }), "bob", names)).toBe("Alice removed zed"); // name not known yet
  });

  it("turns refusals into sentences", () => {
    expect(errorText("EDIT_WINDOW_CLOSED", "", "edit")).toBe(
      "Could not edit the message: the time to edit it has passed.",
    );
    expect(errorText("FORBIDDEN", "only the group's creator may remove members", "removeMember")).toBe(
      "Could not remove the member: you are not allowed to (only the group's creator may remove members).",
    );
    expect(errorText("LIMIT_REACHED", "at most 20", "react")).toBe(
      "Could not react: a limit was reached (at most 20).",
    );
    expect(errorText("SOMETHING_NEW", "x", undefined)).toBe("Could not do that: something went wrong (x).");
  });

  it("offers edit only on the user's own, live messages within the window", () => {
    const m = { ...msg(1, "alice"), sentAt: 1_000 };
    expect(canEdit(m, "alice", 1_000 + EDIT_WINDOW_MS)).toBe(true);
    expect(canEdit(m, "alice", 1_001 + EDIT_WINDOW_MS)).toBe(false);
    expect(canEdit(m, "bob", 2_000)).toBe(false);
    expect(canEdit({ ...m, deleted: true }, "alice", 2_000)).toBe(false);
  });

  it("follows membership and title changes in the summary, and says when they concern the user", () => {
    const c = summary({ conversationId: G, kind: "group", title: "Team", memberIds: ["alice", "bob"] });
    expect(summaryAfter(c, e("add", { userIds: ["carol", "bob"] })).memberIds).toEqual(["alice", "bob", "carol"]);
    expect(summaryAfter(c, e("remove", { userId: "bob" })).memberIds).toEqual(["alice"]);
    expect(summaryAfter(c, e("rename", { title: "Crew" })).title).toBe("Crew");
    expect(summaryAfter(c, e("remove", { userId: "zed" }))).toBe(c);
    expect(membershipOf(e("remove", { userId: "bob" }), "bob")).toBe("removed");
    expect(membershipOf({ ...e("leave", {}), senderId: "bob" }, "bob")).toBe("left");
    expect(membershipOf(e("add", { userIds: ["bob"] }), "bob")).toBe("added");
    expect(membershipOf(e("rename", { title: "x" }), "bob")).toBeUndefined();
  });

  it("moves the chat list's lastSeq for every entry, its preview and unread only for messages", () => {
    const store = storeWith({ conversations: { [CID]: summary({ lastSeq: 2, lastPreview: "old" }) } });
    store.update(noteStored(CID, [react(3, 2, "👍", true)], "alice"));
    // Everything was read and only a reaction came: still nothing unread, as the server counts it.
    expect(store.getState().conversations[CID]).toMatchObject({ lastSeq: 3, lastReadSeq: 3, lastPreview: "old" });
    store.update(noteStored(CID, [msg(4), edit(5, 4, "x")], "alice"));
    expect(store.getState().conversations[CID]).toMatchObject({ lastSeq: 5, lastReadSeq: 3, lastPreview: "m4" });
    store.update(noteStored(CID, [react(6, 4, "👍", true)], "alice"));
    expect(store.getState().conversations[CID]).toMatchObject({ lastSeq: 6, lastReadSeq: 3 }); // m4 still unread
  });

  it("reads a fetched summary the server counts as read (unread 0) as read up to its lastSeq", () => {
    const store = storeWith();
    store.update(
      mergeSummaries([
        summary({ lastSeq: 9, lastReadSeq: 7, unread: 0 }),
        summary({ conversationId: G, lastSeq: 9, lastReadSeq: 7 }),
      ]),
    );
    expect(store.getState().conversations[CID]!.lastReadSeq).toBe(9);
    expect(store.getState().conversations[G]!.lastReadSeq).toBe(7); // unread 2: a message among them
  });
});
