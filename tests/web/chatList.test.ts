import {
  applySyncedCursors,
  mergeSummaries,
  mergeSummary,
  noteStored,
  readUpTo,
  sortConversations,
} from "../../web/src/state/chatList";
import { PREVIEW_CHARS } from "../../runtime/contracts/api";
import { CID, msg, storeWith, summary } from "./fakes";

describe("chat list helpers", () => {
  it("sorts newest activity first, falling back to creation time", () => {
    const a = summary({ conversationId: "d:a:b", lastMessageAt: 50 });
    const b = summary({ conversationId: "d:a:c", lastMessageAt: undefined, createdAt: 70 });
    const c = summary({ conversationId: "d:a:d", lastMessageAt: 90 });
    expect(sortConversations([a, b, c]).map((x) => x.conversationId)).toEqual(["d:a:d", "d:a:c", "d:a:b"]);
  });

  it("merges a refetched summary without moving seqs backwards", () => {
    const local = summary({ lastSeq: 9, lastReadSeq: 9, lastPreview: "newer" });
    const remote = summary({ lastSeq: 7, lastReadSeq: 5, lastPreview: "older", title: "x" });
    expect(mergeSummary(local, remote)).toMatchObject({ lastSeq: 9, lastReadSeq: 9, lastPreview: "newer", title: "x" });
  });
});

describe("chat list changes", () => {
  const state = () => storeWith({ conversations: { [CID]: summary({ lastSeq: 2, lastReadSeq: 1 }) } }).getState();

  it("takes a synced cursor only when it is ahead", () => {
    const s = state();
    expect(applySyncedCursors([{ conversationId: CID, lastSeq: 2 }])(s)).toBe(s);
    expect(applySyncedCursors([{ conversationId: "d:x:y", lastSeq: 9 }])(s)).toBe(s);
    expect(applySyncedCursors([{ conversationId: CID, lastSeq: 5 }])(s).conversations[CID]!.lastSeq).toBe(5);
  });

  it("notes the newest stored message, and counts the user's own as read", () => {
    const s = state();
    expect(noteStored(CID, [msg(1)], "alice")(s)).toBe(s);
    const long = { ...msg(4, "alice"), body: "x".repeat(200) };
    const c = noteStored(CID, [msg(3), long], "alice")(s).conversations[CID]!;
    expect(c).toMatchObject({ lastSeq: 4, lastSenderId: "alice", lastMessageAt: 1004, lastReadSeq: 4 });
    expect(c.lastPreview).toHaveLength(PREVIEW_CHARS); // the store's cut (contracts), 120
  });

  it("moves a read position forward only", () => {
    const s = state();
    expect(readUpTo(CID, 1)(s)).toBe(s);
    expect(readUpTo(CID, 2)(s).conversations[CID]!.lastReadSeq).toBe(2);
    expect(mergeSummaries([summary({ lastSeq: 1, lastReadSeq: 0 })])(s).conversations[CID]).toMatchObject({
      lastSeq: 2,
      lastReadSeq: 1,
    });
  });
});
