import { mergeSummary, sortConversations } from "../../web/src/state/chatList";
import { summary } from "./fakes";

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
