/**
 * Issue 16 in the client: event frames and history pages with events, changes through the outbox (resent with
 * the same clientMessageId until accepted), refusals as notices, leaving and being removed, persisted receipts.
 */
import type { ServerFrame } from "../../runtime/contracts/frames";
import { Outbox } from "../../web/src/state/outbox";
import { defaultTimers } from "../../web/src/state/timers";
import {
  CID,
  FakeApi,
  FakeSender,
  fakeClient,
  flush,
  liveConnection,
  msg,
  readyFrame,
  storeWith,
  summary,
} from "./fakes";

const GID = "g:team123456";
const ev = (seq: number, senderId: string, more: Record<string, unknown>, conversationId = GID): ServerFrame =>
  ({
    type: "event",
    conversationId,
    seq,
    senderId,
    clientMessageId: `e${seq}`,
    sentAt: 9000 + seq,
    storedAt: 9000 + seq,
    ...more,
  }) as ServerFrame;

function setup() {
  const api = new FakeApi();
  api.conversations = [
    summary(),
    summary({ conversationId: GID, kind: "group", title: "Team", memberIds: ["alice", "bob", "carol"], lastSeq: 2 }),
  ];
  api.history = [msg(1, "bob", "c1", GID), msg(2, "alice", "c2", GID)];
  const { client, ws, goLive } = fakeClient(api);
  const list = () => client.getState().messages[GID]!;
  const listCalls = () => api.calls.filter((c) => c === "conversations").length;
  return { api, client, ws, goLive, list, listCalls };
}

async function started() {
  const t = setup();
  t.client.start();
  await flush();
  t.goLive();
  t.client.openConversation(GID);
  await flush();
  return t;
}

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

describe("outbox: changes", () => {
  function outbox() {
    const store = storeWith({ connection: liveConnection });
    const sender = new FakeSender();
    let n = 0;
    const box = new Outbox({
      store,
      send: sender.send,
      timers: defaultTimers,
      now: () => 42,
      newId: () => `x${++n}`,
      acceptTimeoutMs: 10_000,
    });
    return { store, sender, box, changes: () => store.getState().messages[CID]?.changes ?? [] };
  }

  it("sends each change kind as its frame, and resends unaccepted ones on flush with the same clientMessageId", () => {
    const t = outbox();
    t.box.change({ type: "edit", conversationId: CID, seq: 1, body: "b" });
    t.box.change({ type: "react", conversationId: CID, seq: 1, emoji: "👍", on: true });
    t.sender.open = false;
    t.box.change({ type: "rename", conversationId: CID, title: "T" }); // could not go out
    expect(t.sender.frames).toEqual([
      { type: "edit", conversationId: CID, seq: 1, body: "b", clientMessageId: "x1" },
      { type: "react", conversationId: CID, seq: 1, emoji: "👍", on: true, clientMessageId: "x2" },
    ]);
    t.box.accepted(CID, "x1");
    t.sender.open = true;
    t.box.flush(); // the connection is live again: x2 (no answer) and x3 (never sent) go out, x1 does not
    expect(t.sender.frames.slice(2).map((f) => ("clientMessageId" in f ? f.clientMessageId : ""))).toEqual([
      "x2",
      "x3",
    ]);
    expect(t.changes().map((c) => `${c.clientMessageId}:${c.status}`)).toEqual([
      "x1:accepted",
      "x2:pending",
      "x3:pending",
    ]);
    t.box.stop();
  });

  it("sends a reply with its replyTo, and only then", () => {
    const t = outbox();
    t.box.add(CID, "plain");
    t.box.add(CID, "answer", 7);
    expect(t.sender.ofType("send")).toEqual([
      { type: "send", conversationId: CID, clientMessageId: "x1", body: "plain" },
      { type: "send", conversationId: CID, clientMessageId: "x2", body: "answer", replyTo: 7 },
    ]);
    t.box.rejected(CID, "x2", "UNAVAILABLE", "queue down");
    t.box.retry(CID, "x2");
    expect(t.sender.ofType("send")[2]).toEqual({
      type: "send",
      conversationId: CID,
      clientMessageId: "x2",
      body: "answer",
      replyTo: 7,
    });
    t.box.stop();
  });

  it("drops a refused change with a readable notice, and one without an answer while connected", () => {
    const t = outbox();
    const a = t.box.change({ type: "edit", conversationId: CID, seq: 1, body: "b" });
    expect(t.box.rejected(CID, a, "EDIT_WINDOW_CLOSED", "a message can be edited for 1440 minutes")).toBe(true);
    expect(t.changes()).toEqual([]);
    expect(t.store.getState().actionNotice).toEqual({
      conversationId: CID,
      text: "Could not edit the message: the time to edit it has passed (a message can be edited for 1440 minutes).",
    });
    t.box.change({ type: "delete", conversationId: CID, seq: 1 });
    jest.advanceTimersByTime(10_000);
    expect(t.changes()).toEqual([]);
    expect(t.store.getState().actionNotice?.text).toMatch(/^Could not delete the message/);
    expect(t.box.rejected(CID, "unknown", "FORBIDDEN", "")).toBe(false);
    t.box.stop();
  });
});

describe("chat client: the conversation's events", () => {
  it("applies live edit, react and delete frames to their message; a sync replay changes nothing", async () => {
    const t = await started();
    t.ws().receive(ev(3, "bob", { kind: "edit", target: 1, body: "fixed" }));
    t.ws().receive(ev(4, "carol", { kind: "react", target: 2, emoji: "🎉", on: true }));
    t.ws().receive(ev(5, "bob", { kind: "delete", target: 1 }));
    const snapshot = t.list();
    expect(snapshot.stored.map((m) => [m.body, m.deleted ?? false, m.reactions])).toEqual([
      ["", true, undefined],
      ["m2", false, { "🎉": ["carol"] }],
    ]);
    // Reconnect: the sync replays the same events (at or below each message's rev).
    t.ws().serverClose(1006);
    jest.advanceTimersByTime(60_000);
    t.ws().open();
    t.ws().receive(readyFrame());
    expect(t.ws().sentOfType("sync")[0]).toEqual({
      type: "sync",
      cursors: expect.arrayContaining([{ conversationId: GID, afterSeq: 5 }]),
    });
    t.ws().receive(ev(4, "carol", { kind: "react", target: 2, emoji: "🎉", on: true }));
    t.ws().receive(ev(3, "bob", { kind: "edit", target: 1, body: "fixed" }));
    expect(t.list()).toBe(snapshot);
    expect(t.client.getState().conversations[GID]).toMatchObject({ lastSeq: 5, lastPreview: "old" }); // events are not previews
    t.client.stop();
  });

  it("follows an edit or delete of the newest message in the chat list's preview, as the server does", async () => {
    const t = await started();
    t.ws().receive(ev(3, "bob", { kind: "edit", target: 1, body: "not the newest" }));
    expect(t.client.getState().conversations[GID]!.lastPreview).toBe("old");
    t.ws().receive(ev(4, "alice", { kind: "edit", target: 2, body: "newest, edited" }));
    expect(t.client.getState().conversations[GID]!.lastPreview).toBe("newest, edited");
    t.ws().receive(ev(5, "alice", { kind: "delete", target: 2 }));
    expect(t.client.getState().conversations[GID]!.lastPreview).toBe("Message deleted");
    t.client.stop();
  });

  it("counts a newer server's frame type for the sync cursor and otherwise ignores it", async () => {
    const t = await started();
    t.ws().receive({ type: "poll", conversationId: GID, seq: 9, question: "?" } as unknown as ServerFrame);
    expect(t.list().lastSeq).toBe(9);
    expect(t.list().stored).toHaveLength(2);
    t.client.stop();
  });

  it("sends the user's changes through the outbox and shows them at once", async () => {
    const t = await started();
    t.client.edit(GID, 2, "edited");
    t.client.react(GID, 1, "👍", true);
    t.client.send(GID, "re", 1);
    expect(t.ws().sentOfType("edit")).toEqual([
      { type: "edit", conversationId: GID, seq: 2, body: "edited", clientMessageId: "cm1" },
    ]);
    expect(t.ws().sentOfType("react")).toEqual([
      { type: "react", conversationId: GID, seq: 1, emoji: "👍", on: true, clientMessageId: "cm2" },
    ]);
    expect(t.ws().sentOfType("send")).toEqual([
      { type: "send", conversationId: GID, clientMessageId: "cm3", body: "re", replyTo: 1 },
    ]);
    t.ws().receive({ type: "accepted", conversationId: GID, clientMessageId: "cm1" });
    t.ws().receive({
      type: "error",
      code: "GONE",
      message: "the message was deleted",
      ref: { type: "react", clientMessageId: "cm2", conversationId: GID },
    });
    expect(t.list().changes.map((c) => `${c.clientMessageId}:${c.status}`)).toEqual(["cm1:accepted"]);
    expect(t.client.getState().actionNotice?.text).toBe(
      "Could not react: the message was deleted (the message was deleted).",
    );
    t.ws().receive({
      ...ev(3, "alice", { kind: "edit", target: 2, body: "edited" }),
      clientMessageId: "cm1",
    } as ServerFrame);
    expect(t.list().changes).toEqual([]);
    expect(t.list().stored[1]).toMatchObject({ body: "edited", rev: 3 });
    t.client.dismissNotice();
    expect(t.client.getState().actionNotice).toBeUndefined();
    t.client.stop();
  });

  it("follows membership and title events in the summary and shows them as lines", async () => {
    const t = await started();
    t.ws().receive(ev(3, "bob", { kind: "add", userIds: ["dan"] }));
    t.ws().receive(ev(4, "bob", { kind: "rename", title: "Crew" }));
    t.ws().receive(ev(5, "carol", { kind: "leave" }));
    expect(t.client.getState().conversations[GID]).toMatchObject({
      title: "Crew",
      memberIds: ["alice", "bob", "dan"],
      lastSeq: 5,
    });
    expect(t.list().system.map((e) => e.kind)).toEqual(["add", "rename", "leave"]);
    expect(t.api.calls).toContain("users:dan"); // the new member's name is looked up
    t.client.stop();
  });

  it("refetches the chat list on a `conversation` frame and on an event for an unknown conversation", async () => {
    const t = await started();
    const before = t.listCalls();
    t.ws().receive({ type: "conversation", conversationId: "g:new1234567" });
    await flush();
    expect(t.listCalls()).toBe(before + 1);
    t.api.conversations.push(summary({ conversationId: "g:added12345", kind: "group", title: "New", lastSeq: 8 }));
    t.ws().receive(ev(8, "bob", { kind: "add", userIds: ["alice"] }, "g:added12345"));
    await flush();
    expect(t.listCalls()).toBe(before + 2);
    expect(t.client.getState().conversations["g:added12345"]).toMatchObject({ title: "New" });
    t.client.stop();
  });

  it("when removed: read-only, no more frames for it, dropped from the list on the refetch; re-added: back", async () => {
    const t = await started();
    t.api.conversations = t.api.conversations.filter((c) => c.conversationId !== GID); // the server's list now
    t.ws().receive(ev(3, "bob", { kind: "remove", userId: "alice" }));
    expect(t.client.getState().departed[GID]).toEqual({ reason: "removed", atSeq: 3, title: "Team" });
    await flush();
    expect(t.client.getState().conversations[GID]).toBeUndefined(); // gone from the chat list
    expect(t.client.getState().departed[GID]).toMatchObject({ reason: "removed" }); // the open view still knows why
    const sent = t.ws().sent.length;
    expect(t.client.send(GID, "hello?")).toBeUndefined();
    expect(t.client.react(GID, 1, "👍", true)).toBeUndefined();
    expect(t.ws().sent.length).toBe(sent);
    // The next connection does not ask to sync it (it would answer NOT_MEMBER).
    t.ws().serverClose(1006);
    jest.advanceTimersByTime(60_000);
    t.ws().open();
    t.ws().receive(readyFrame());
    expect(JSON.stringify(t.ws().sentOfType("sync"))).not.toContain(GID);
    // Added back later: the add event clears it.
    t.api.conversations.push(summary({ conversationId: GID, kind: "group", title: "Team", lastSeq: 4 }));
    t.ws().receive(ev(4, "bob", { kind: "add", userIds: ["alice"] }));
    await flush();
    expect(t.client.getState().departed[GID]).toBeUndefined();
    expect(t.client.getState().conversations[GID]).toBeDefined();
    t.client.stop();
  });

  it("marks a chat the user left; a NOT_MEMBER refusal for a known chat refetches the list", async () => {
    const t = await started();
    t.client.leave(GID);
    expect(t.ws().sentOfType("leave")).toEqual([{ type: "leave", conversationId: GID, clientMessageId: "cm1" }]);
    t.api.conversations = t.api.conversations.filter((c) => c.conversationId !== GID);
    t.ws().receive({ ...ev(3, "alice", { kind: "leave" }), clientMessageId: "cm1" } as ServerFrame);
    expect(t.client.getState().departed[GID]).toMatchObject({ reason: "left" });
    await flush();
    // Removed on another device while this one was away: the refusal of a read says so.
    const before = t.listCalls();
    t.api.conversations = t.api.conversations.filter((c) => c.conversationId !== CID);
    t.ws().receive({ type: "error", code: "NOT_MEMBER", message: "no", ref: { type: "read", conversationId: CID } });
    await flush();
    expect(t.listCalls()).toBe(before + 1);
    expect(t.client.getState().conversations[CID]).toBeUndefined();
    expect(t.client.getState().departed[CID]).toMatchObject({ reason: "removed" });
    t.client.stop();
  });

  it("keeps a chat created while the list was being fetched", async () => {
    const t = setup();
    t.client.start();
    await flush();
    t.goLive();
    const refresh = t.client.refreshConversations(); // fetching; the new chat is not in this answer
    await t.client.createConversation({ kind: "group", title: "Fresh", memberIds: ["bob"] });
    await refresh;
    await flush();
    expect(Object.keys(t.client.getState().conversations)).toContain(CID);
    expect(t.client.getState().departed).toEqual({});
    t.client.stop();
  });
});

describe("chat client: persisted read positions", () => {
  it("seeds Seen by from the history page, and live read frames still move it forward only", async () => {
    const t = setup();
    t.api.readPositions = { alice: 2, bob: 2, carol: 1 };
    t.client.start();
    await flush();
    t.goLive();
    t.client.openConversation(GID);
    await flush();
    expect(t.client.getState().receipts[GID]).toEqual({ bob: 2, carol: 1 });
    t.ws().receive({ type: "read", conversationId: GID, userId: "carol", seq: 2 });
    t.ws().receive({ type: "read", conversationId: GID, userId: "bob", seq: 1 }); // late: ignored
    expect(t.client.getState().receipts[GID]).toEqual({ bob: 2, carol: 2 });
    t.client.stop();
  });
});
