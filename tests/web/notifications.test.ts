import type { ConversationSummary } from "../../web/src/state/api";
import type { StoredMessage } from "../../web/src/state/messageList";
import { documentTitle, notificationFor, totalUnread } from "../../web/src/state/notifications";

const chat = (id: string, lastSeq: number, lastReadSeq: number): ConversationSummary => ({
  conversationId: id,
  kind: "direct",
  memberIds: ["alice", "bob"],
  createdBy: "alice",
  lastSeq,
  lastReadSeq,
  unread: lastSeq - lastReadSeq,
  createdAt: 1,
});

const m = (senderId: string, body = "hi"): StoredMessage => ({
  conversationId: "g:abcdefgh",
  seq: 3,
  senderId,
  clientMessageId: "c3",
  body,
  sentAt: 1,
  storedAt: 1,
});

describe("documentTitle", () => {
  it("shows the total unread across chats, and the bare name at zero", () => {
    const chats = { a: chat("a", 5, 3), b: chat("b", 1, 0), c: chat("c", 4, 4) };
    expect(totalUnread(chats)).toBe(3);
    expect(documentTitle(chats)).toBe("(3) Parley");
    expect(documentTitle({ c: chat("c", 4, 4) })).toBe("Parley");
    expect(documentTitle({})).toBe("Parley");
  });
});

describe("notificationFor", () => {
  it("notifies only for others' messages while the tab is hidden", () => {
    expect(notificationFor(m("bob"), "alice", true, "Bob", undefined)).toBeUndefined();
    expect(notificationFor(m("alice"), "alice", false, "Alice", undefined)).toBeUndefined();
    expect(notificationFor(m("bob"), "alice", false, "Bob", undefined)).toEqual({
      title: "Bob",
      body: "hi",
      tag: "g:abcdefgh",
      conversationId: "g:abcdefgh",
    });
  });

  it("names the group and shortens long bodies", () => {
    const n = notificationFor(m("bob", "x".repeat(500)), "alice", false, "Bob", "Team");
    expect(n?.title).toBe("Bob in Team");
    expect(n?.body).toHaveLength(201);
  });
});
