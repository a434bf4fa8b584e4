import type { DesktopNotification } from "../../web/src/state/notifications";
import { unreadCount } from "../../web/src/state/unread";
import { closeCodes } from "../../runtime/contracts/frames";
import { CID, FakeApi, fakeClient, flush, msg, readyFrame, summary } from "./fakes";

function setup(opts: { visible?: boolean } = {}) {
  const api = new FakeApi();
  let unauthorized = 0;
  let visible = opts.visible ?? true;
  const notified: DesktopNotification[] = [];
  const { client, sockets, ws, goLive } = fakeClient(api, {
    onUnauthorized: () => unauthorized++,
    onNotify: (n) => notified.push(n),
    isVisible: () => visible,
  });
  const conv = () => client.getState().conversations[CID]!;
  const list = () => client.getState().messages[CID]!;
  return {
    api,
    client,
    sockets,
    ws,
    goLive,
    conv,
    list,
    unauthorized: () => unauthorized,
    notified,
    setVisible: (v: boolean) => (visible = v),
  };
}

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

describe("chat client", () => {
  it("fixes the unread divider at the read position when a chat opens, before marking it read", async () => {
    const t = setup();
    t.api.conversations = [summary({ lastSeq: 5, lastReadSeq: 2 })];
    t.client.start();
    await flush();
    t.goLive();
    t.client.openConversation(CID);
    await flush();
    expect(t.client.getState().unreadDivider).toEqual({ conversationId: CID, afterSeq: 2 });
    expect(t.conv().lastReadSeq).toBe(5); // read now, the divider stays where it was
    t.ws().receive({ type: "message", ...msg(6) });
    expect(t.client.getState().unreadDivider).toEqual({ conversationId: CID, afterSeq: 2 });
    t.client.openConversation(null);
    expect(t.client.getState().unreadDivider).toBeUndefined();
    t.client.openConversation(CID);
    expect(t.client.getState().unreadDivider).toEqual({ conversationId: CID, afterSeq: null }); // nothing unread
    t.client.stop();
  });

  it("places the divider once the list arrives when a chat is opened first (a reload of /c/<id>)", async () => {
    const t = setup();
    t.api.conversations = [summary({ lastSeq: 4, lastReadSeq: 1 })];
    t.client.openConversation(CID);
    expect(t.client.getState().unreadDivider).toBeUndefined();
    t.client.start();
    await flush();
    expect(t.client.getState().unreadDivider).toEqual({ conversationId: CID, afterSeq: 1 });
    t.client.stop();
  });

  it("asks the shell to notify of new messages from others only while the tab is hidden, once per message", async () => {
    const t = setup();
    t.client.start();
    await flush();
    t.goLive();
    t.ws().receive({ type: "message", ...msg(3) });
    expect(t.notified).toEqual([]);
    t.setVisible(false);
    t.ws().receive({ type: "message", ...msg(4) });
    t.ws().receive({ type: "message", ...msg(4) }); // a repeat
    t.ws().receive({ type: "message", ...msg(5, "alice") }); // own, from another tab
    expect(t.notified).toEqual([{ title: "Bob", body: "m4", tag: CID, conversationId: CID }]);
    t.client.stop();
  });

  it("loads the chat list, syncs from each chat's last seq and updates the list from live messages", async () => {
    const t = setup();
    t.client.start();
    await flush();
    t.goLive();
    expect(t.ws().sentOfType("sync")).toEqual([{ type: "sync", cursors: [{ conversationId: CID, afterSeq: 2 }] }]);
    t.ws().receive({ type: "message", ...msg(3) });
    expect(t.conv()).toMatchObject({ lastSeq: 3, lastPreview: "m3", lastSenderId: "bob", lastMessageAt: 1003 });
    expect(unreadCount(t.conv())).toBe(1);
    expect(t.client.getState().presence.bob?.online).toBe(true);
    t.ws().receive({ type: "presence", userId: "bob", online: false, lastSeen: 9 });
    expect(t.client.getState().presence.bob?.online).toBe(false);
    // A missed presence frame is corrected by the periodic re-read.
    jest.advanceTimersByTime(30_000);
    await flush();
    expect(t.client.getState().presence.bob?.online).toBe(true);
    t.client.stop();
  });

  it("syncs chats the first sync did not cover (the socket was ready before the list arrived)", async () => {
    const t = setup();
    t.client.start();
    t.goLive(); // before the list fetch resolves
    expect(t.ws().sentOfType("sync")).toEqual([{ type: "sync", cursors: [] }]);
    await flush();
    expect(t.ws().sentOfType("sync")).toEqual([
      { type: "sync", cursors: [] },
      { type: "sync", cursors: [{ conversationId: CID, afterSeq: 2 }] },
    ]);
    await t.client.refreshConversations();
    expect(t.ws().sentOfType("sync")).toHaveLength(2);
    t.client.stop();
  });

  it("refetches the chat list when a message arrives for an unknown conversation", async () => {
    const t = setup();
    t.client.start();
    await flush();
    t.goLive();
    const before = t.api.calls.filter((c) => c === "conversations").length;
    const GID = "g:abcdefgh12";
    t.api.conversations.push(
      summary({
        conversationId: GID,
        kind: "group",
        title: "Team",
        memberIds: ["alice", "bob", "carol"],
        lastSeq: 1,
        lastReadSeq: 0,
      }),
    );
    t.ws().receive({ type: "message", ...msg(1, "carol", "x", GID) });
    await flush();
    expect(t.api.calls.filter((c) => c === "conversations").length).toBe(before + 1);
    expect(t.client.getState().conversations[GID]).toMatchObject({ title: "Team", lastSeq: 1 });
    expect(unreadCount(t.client.getState().conversations[GID]!)).toBe(1);
    t.client.stop();
  });

  it("sends optimistically: pending → accepted → stored, with the stored copy taking its seq place", async () => {
    const t = setup();
    t.client.start();
    await flush();
    t.goLive();
    t.client.openConversation(CID);
    await flush();
    const cmid = t.client.send(CID, "hello")!;
    expect(t.list().pending).toEqual([expect.objectContaining({ clientMessageId: cmid, status: "pending" })]);
    expect(t.ws().sentOfType("send")).toEqual([
      { type: "send", conversationId: CID, clientMessageId: cmid, body: "hello" },
    ]);
    t.ws().receive({ type: "accepted", conversationId: CID, clientMessageId: cmid });
    expect(t.list().pending[0]!.status).toBe("accepted");
    t.ws().receive({ type: "message", ...msg(3, "alice", cmid) });
    t.ws().receive({ type: "message", ...msg(3, "alice", cmid) }); // at-least-once
    expect(t.list().pending).toHaveLength(0);
    expect(t.list().stored.map((m) => m.seq)).toEqual([1, 2, 3]);
    // Our own message does not count as unread.
    expect(unreadCount(t.conv())).toBe(0);
    jest.advanceTimersByTime(30_000);
    expect(t.list().pending).toHaveLength(0);
    t.client.stop();
  });

  it("marks a send failed on an error frame or a missing accept, and retries with the same clientMessageId", async () => {
    const t = setup();
    t.client.start();
    await flush();
    t.goLive();
    const a = t.client.send(CID, "one")!;
    t.ws().receive({
      type: "error",
      code: "UNAVAILABLE",
      message: "queue down",
      ref: { clientMessageId: a, conversationId: CID },
    });
    expect(t.list().pending[0]).toMatchObject({ status: "failed", error: "queue down" });
    const b = t.client.send(CID, "two")!;
    jest.advanceTimersByTime(10_000);
    expect(t.list().pending.find((p) => p.clientMessageId === b)!.status).toBe("failed");

    t.client.retry(CID, a);
    expect(t.list().pending.find((p) => p.clientMessageId === a)!.status).toBe("pending");
    const sends = t
      .ws()
      .sentOfType("send")
      .map((f) => f.clientMessageId);
    expect(sends).toEqual([a, b, a]);
    t.client.stop();
  });

  it("queues sends while offline and sends them, once each, when live again", async () => {
    const t = setup();
    t.client.start();
    await flush();
    t.goLive();
    t.client.browserOffline();
    const cmid = t.client.send(CID, "while offline")!;
    expect(t.list().pending[0]!.status).toBe("pending");
    jest.advanceTimersByTime(60_000); // no accept timeout while disconnected
    expect(t.list().pending[0]!.status).toBe("pending");
    t.client.browserOnline();
    t.goLive();
    expect(t.ws().sentOfType("send")).toEqual([expect.objectContaining({ clientMessageId: cmid })]);
    t.client.stop();
  });

  it("catches up after a reconnect: everything after the cursor once, unread counted, cleared when opened", async () => {
    const t = setup();
    t.client.start();
    await flush();
    t.goLive();
    t.ws().receive({ type: "message", ...msg(3) });
    t.client.browserOffline();
    expect(t.client.getState().connection.status).toBe("offline");
    t.client.browserOnline();
    t.ws().open();
    t.ws().receive(readyFrame());
    expect(t.ws().sentOfType("sync")).toEqual([{ type: "sync", cursors: [{ conversationId: CID, afterSeq: 3 }] }]);
    for (const s of [4, 5, 6, 7, 8, 6, 7]) t.ws().receive({ type: "message", ...msg(s) });
    t.ws().receive({ type: "synced", cursors: [{ conversationId: CID, lastSeq: 8 }] });
    expect(t.client.getState().connection.status).toBe("live");
    expect(t.client.getState().messages[CID]!.stored.map((m) => m.seq)).toEqual([3, 4, 5, 6, 7, 8]);
    expect(unreadCount(t.conv())).toBe(6);

    t.api.history = [1, 2, 3, 4, 5, 6, 7, 8].map((s) => msg(s));
    t.client.openConversation(CID);
    await flush();
    expect(unreadCount(t.conv())).toBe(0);
    expect(t.ws().sentOfType("read")).toEqual([{ type: "read", conversationId: CID, seq: 8 }]);
    expect(t.list().stored.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    t.client.stop();
  });

  it("does not mark read while the tab is hidden, and does when it becomes visible", async () => {
    const t = setup({ visible: false });
    t.client.start();
    await flush();
    t.goLive();
    t.client.openConversation(CID);
    t.ws().receive({ type: "message", ...msg(3) });
    expect(unreadCount(t.conv())).toBe(1);
    expect(t.ws().sentOfType("read")).toEqual([]);
    t.setVisible(true);
    t.client.visibilityChanged();
    expect(unreadCount(t.conv())).toBe(0);
    expect(t.ws().sentOfType("read")).toEqual([{ type: "read", conversationId: CID, seq: 3 }]);
    t.client.stop();
  });

  it("fills a hole between the messages it has and a newer one", async () => {
    const t = setup();
    t.client.start();
    await flush();
    t.goLive();
    t.client.openConversation(CID);
    await flush();
    t.api.history = [1, 2, 3, 4, 5].map((s) => msg(s));
    t.ws().receive({ type: "message", ...msg(5) });
    await flush();
    expect(t.api.calls).toContain(`messages:${CID}::2`);
    expect(t.list().stored.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
    t.client.stop();
  });

  it("shows typing for 4 s, throttles its own typing frames, and records read receipts", async () => {
    const t = setup();
    t.client.start();
    await flush();
    t.goLive();
    t.ws().receive({ type: "typing", conversationId: CID, userId: "bob" });
    expect(Object.keys(t.client.getState().typing[CID]!)).toEqual(["bob"]);
    jest.advanceTimersByTime(4100);
    expect(t.client.getState().typing[CID]).toEqual({});

    t.client.notifyTyping(CID);
    t.client.notifyTyping(CID);
    jest.advanceTimersByTime(2000);
    t.client.notifyTyping(CID);
    expect(t.ws().sentOfType("typing")).toHaveLength(2);

    // A keystroke inside the window is owed one trailing frame when the window ends; sending cancels it.
    jest.advanceTimersByTime(500);
    t.client.notifyTyping(CID);
    jest.advanceTimersByTime(1800);
    expect(t.ws().sentOfType("typing")).toHaveLength(3);
    jest.advanceTimersByTime(1000);
    t.client.notifyTyping(CID);
    t.client.send(CID, "done");
    jest.advanceTimersByTime(5000);
    expect(t.ws().sentOfType("typing")).toHaveLength(3);

    // A repeated old message does not end Bob's typing; a new one does.
    t.ws().receive({ type: "message", ...msg(3) });
    t.ws().receive({ type: "typing", conversationId: CID, userId: "bob" });
    t.ws().receive({ type: "message", ...msg(3) });
    expect(Object.keys(t.client.getState().typing[CID]!)).toEqual(["bob"]);
    t.ws().receive({ type: "message", ...msg(4) });
    expect(t.client.getState().typing[CID]).toEqual({});

    t.ws().receive({ type: "read", conversationId: CID, userId: "bob", seq: 2 });
    t.ws().receive({ type: "read", conversationId: CID, userId: "bob", seq: 1 });
    expect(t.client.getState().receipts[CID]).toEqual({ bob: 2 });
    t.client.stop();
  });

  it("loads older history with before=<first seq>", async () => {
    const t = setup();
    t.api.history = Array.from({ length: 120 }, (_, i) => msg(i + 1));
    t.api.conversations = [summary({ lastSeq: 120, lastReadSeq: 120 })];
    t.client.start();
    await flush();
    t.client.openConversation(CID);
    await flush();
    expect(t.list().stored[0]!.seq).toBe(71);
    expect(t.list().hasMoreBefore).toBe(true);
    await t.client.loadOlder(CID);
    expect(t.api.calls).toContain(`messages:${CID}:71:`);
    expect(t.list().stored[0]!.seq).toBe(21);
    await t.client.loadOlder(CID);
    expect(t.list().stored.map((m) => m.seq)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
    expect(t.list().hasMoreBefore).toBe(false);
    t.client.stop();
  });

  it("asks for a new login on close code 4001 or when the server refuses the token", async () => {
    const t = setup();
    t.client.start();
    await flush();
    t.goLive();
    t.ws().serverClose(closeCodes.authExpired);
    expect(t.unauthorized()).toBe(1);

    const u = setup();
    u.api.meStatus = 401;
    u.client.start();
    await flush();
    u.ws().serverClose(1006); // refused during the handshake
    await flush();
    expect(u.api.calls).toContain("me");
    expect(u.unauthorized()).toBe(1);
    jest.advanceTimersByTime(60_000);
    expect(u.sockets).toHaveLength(1);
    t.client.stop();
    u.client.stop();
  });

  it("logs out: closes the socket, revokes the token on the server, and does not reconnect", async () => {
    const t = setup();
    t.client.start();
    await flush();
    t.goLive();
    await t.client.logout();
    expect(t.api.calls).toContain("logout");
    expect(t.ws().closedByClient).toBeDefined();
    jest.advanceTimersByTime(60_000);
    expect(t.sockets).toHaveLength(1);
  });
});
