import {
  addPending,
  displayItems,
  emptyMessageList,
  mergeHistoryPage,
  type StoredMessage,
} from "../../web/src/state/messageList";
import { arrivedAfter, dayLabel, dividerOnOpen, GROUP_WINDOW_MS, timeline } from "../../web/src/state/timeline";

const CID = "d:alice:bob";
const NOW = new Date(2026, 4, 20, 15, 0).getTime();
const at = (day: number, h: number, m = 0) => new Date(2026, 4, day, h, m).getTime();

function msg(seq: number, senderId: string, sentAt: number): StoredMessage {
  return { conversationId: CID, seq, senderId, clientMessageId: `c${seq}`, body: `m${seq}`, sentAt, storedAt: sentAt };
}

const listOf = (...messages: StoredMessage[]) => mergeHistoryPage(emptyMessageList, messages, false, "alice");
const shape = (rows: ReturnType<typeof timeline>) =>
  rows.map((r) =>
    r.kind === "message" ? `${r.groupStart ? "+" : "-"}${r.senderId}` : r.kind === "day" ? `[${r.label}]` : "—new—",
  );

describe("timeline", () => {
  it("puts a separator where the day changes and one header per run of one sender", () => {
    const list = listOf(
      msg(1, "bob", at(19, 22, 0)),
      msg(2, "bob", at(19, 22, 1)),
      msg(3, "bob", at(20, 9, 0)), // next day: new run even though same sender
      msg(4, "alice", at(20, 9, 1)),
      msg(5, "alice", at(20, 9, 2)),
      msg(6, "bob", at(20, 9, 3)),
    );
    expect(shape(timeline(displayItems(list), "alice", null, NOW))).toEqual([
      "[Yesterday]",
      "+bob",
      "-bob",
      "[Today]",
      "+bob",
      "+alice",
      "-alice",
      "+bob",
    ]);
  });

  it("starts a new run after a pause longer than the group window", () => {
    const t = at(20, 10);
    const list = listOf(
      msg(1, "bob", t),
      msg(2, "bob", t + GROUP_WINDOW_MS),
      msg(3, "bob", t + 2 * GROUP_WINDOW_MS + 1),
    );
    expect(shape(timeline(displayItems(list), "alice", null, NOW))).toEqual(["[Today]", "+bob", "-bob", "+bob"]);
  });

  it("own pending sends join the run of own stored messages", () => {
    let list = listOf(msg(1, "alice", at(20, 14, 59)));
    list = addPending(list, { clientMessageId: "p1", body: "hi", now: at(20, 15) });
    expect(shape(timeline(displayItems(list), "alice", null, NOW))).toEqual(["[Today]", "+alice", "-alice"]);
  });

  it("places the unread divider before the first message from someone else after the read position", () => {
    const t = at(20, 10);
    const list = listOf(
      msg(1, "bob", t),
      msg(2, "alice", t + 1),
      msg(3, "alice", t + 2),
      msg(4, "bob", t + 3),
      msg(5, "bob", t + 4),
    );
    // Read up to 1; own messages 2 and 3 count as read, so the divider goes before 4 and 4 starts a run.
    expect(shape(timeline(displayItems(list), "alice", 1, NOW))).toEqual([
      "[Today]",
      "+bob",
      "+alice",
      "-alice",
      "—new—",
      "+bob",
      "-bob",
    ]);
    expect(shape(timeline(displayItems(list), "alice", 5, NOW))).not.toContain("—new—");
  });

  it("labels older days with the weekday, and other years with the year", () => {
    expect(dayLabel(at(20, 1), NOW)).toBe("Today");
    expect(dayLabel(at(19, 23, 59), NOW)).toBe("Yesterday");
    // The user's locale decides the order and commas; the parts are always there.
    const thisYear = dayLabel(new Date(2026, 2, 3).getTime(), NOW);
    expect(thisYear).toMatch(/Tuesday/);
    expect(thisYear).toMatch(/\b3\b/);
    expect(thisYear).not.toMatch(/2026/);
    expect(dayLabel(new Date(2025, 2, 3).getTime(), NOW)).toMatch(/Monday.*2025/);
  });
});

describe("dividerOnOpen and arrivedAfter", () => {
  it("remembers the read position only when something is unread", () => {
    expect(dividerOnOpen({ lastSeq: 9, lastReadSeq: 4 })).toBe(4);
    expect(dividerOnOpen({ lastSeq: 4, lastReadSeq: 4 })).toBeNull();
  });

  it("counts messages from others stored after a seq", () => {
    const t = at(20, 10);
    const list = listOf(msg(1, "bob", t), msg(2, "bob", t), msg(3, "alice", t), msg(4, "bob", t));
    expect(arrivedAfter(list, 1, "alice")).toBe(2);
    expect(arrivedAfter(list, 4, "alice")).toBe(0);
  });
});
