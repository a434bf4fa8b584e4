/**
 * What a conversation shows between its messages: day separators, the "new messages" divider and runs of
 * consecutive messages by one sender (one header — name and time — per run). Pure, so the rules are unit-tested
 * and the view only renders the rows it is given.
 */
import type { ConversationSummary } from "./api";
import type { DisplayItem, MessageList, SystemEvent } from "./messageList";

/** Two messages by one sender this close together (and on the same day) share one header. */
export const GROUP_WINDOW_MS = 5 * 60_000;

export type TimelineRow =
  | { kind: "day"; key: string; label: string }
  | { kind: "unread"; key: "unread" }
  | { kind: "system"; key: string; event: SystemEvent }
  | {
      kind: "message";
      key: string;
      item: Exclude<DisplayItem, { kind: "system" }>;
      senderId: string;
      at: number;
      groupStart: boolean;
    };

export function senderOf(item: DisplayItem, me: string): string {
  return item.kind === "stored" ? item.message.senderId : item.kind === "system" ? item.event.senderId : me;
}

export function timeOf(item: DisplayItem): number {
  return item.kind === "stored" ? item.message.sentAt : item.kind === "system" ? item.event.sentAt : item.send.queuedAt;
}

function dayKey(epochMs: number): string {
  const d = new Date(epochMs);
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
}

/** "Today", "Yesterday", else the weekday and date in the user's locale, with the year if not this year's. */
export function dayLabel(epochMs: number, now: number): string {
  const key = dayKey(epochMs);
  if (key === dayKey(now)) return "Today";
  const yesterday = new Date(now);
  yesterday.setDate(yesterday.getDate() - 1);
  if (key === dayKey(yesterday.getTime())) return "Yesterday";
  const sameYear = new Date(epochMs).getFullYear() === new Date(now).getFullYear();
  return new Date(epochMs).toLocaleDateString(undefined, {
    weekday: "long",
    day: "numeric",
    month: "long",
    ...(sameYear ? {} : { year: "numeric" }),
  });
}

/**
 * The read position to put the "new messages" divider after, decided once when a chat opens (before it is
 * marked read, which would move it): the chat's lastReadSeq if anything is unread, null if nothing is.
 */
export function dividerOnOpen(c: Pick<ConversationSummary, "lastSeq" | "lastReadSeq">): number | null {
  return c.lastSeq > c.lastReadSeq ? c.lastReadSeq : null;
}

/**
 * The rows of a conversation: a day separator where the local day changes, the unread divider before the first
 * message from someone else after `dividerAfterSeq`, and `groupStart` on the first message of each run. A system
 * line ("Alice added Carol") ends a run: the message after it carries its sender's header again.
 */
export function timeline(
  items: readonly DisplayItem[],
  me: string,
  dividerAfterSeq: number | null,
  now: number,
): TimelineRow[] {
  const rows: TimelineRow[] = [];
  let previous: { senderId: string; at: number; day: string } | undefined;
  let dividerPlaced = dividerAfterSeq === null;
  for (const item of items) {
    const senderId = senderOf(item, me);
    const at = timeOf(item);
    const day = dayKey(at);
    let groupStart = !previous || previous.senderId !== senderId || at - previous.at > GROUP_WINDOW_MS;
    if (!previous || previous.day !== day) {
      rows.push({ kind: "day", key: `day:${day}`, label: dayLabel(at, now) });
      groupStart = true;
    }
    if (item.kind === "system") {
      rows.push({ kind: "system", key: item.key, event: item.event });
      previous = { senderId: "", at, day };
      continue;
    }
    if (!dividerPlaced && item.kind === "stored" && item.message.seq > dividerAfterSeq! && senderId !== me) {
      rows.push({ kind: "unread", key: "unread" });
      dividerPlaced = true;
      groupStart = true;
    }
    rows.push({ kind: "message", key: item.key, item, senderId, at, groupStart });
    previous = { senderId, at, day };
  }
  return rows;
}

/** Messages from others stored after `seq`: what arrived while the reader was scrolled up. */
export function arrivedAfter(list: MessageList, seq: number, me: string): number {
  let n = 0;
  for (let i = list.stored.length - 1; i >= 0 && list.stored[i]!.seq > seq; i--) {
    if (list.stored[i]!.senderId !== me) n++;
  }
  return n;
}
