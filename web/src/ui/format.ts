import type { ConversationSummary } from "../state/api";

export function displayName(names: Readonly<Record<string, string>>, userId: string): string {
  return names[userId] ?? userId;
}

/** Groups show their title; a direct chat shows the other member. */
export function conversationTitle(
  c: ConversationSummary,
  meId: string,
  names: Readonly<Record<string, string>>,
): string {
  if (c.kind === "group") return c.title?.trim() || c.memberIds.map((id) => displayName(names, id)).join(", ");
  const other = c.memberIds.find((id) => id !== meId) ?? meId;
  return displayName(names, other);
}

export function otherMember(c: ConversationSummary, meId: string): string | undefined {
  return c.kind === "direct" ? c.memberIds.find((id) => id !== meId) : undefined;
}

/** Today: "14:05"; earlier: "3 Mar". */
export function formatTime(epochMs: number | undefined, now = Date.now()): string {
  if (!epochMs) return "";
  const d = new Date(epochMs);
  const today = new Date(now);
  if (d.toDateString() === today.toDateString()) {
    return d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
  }
  return d.toLocaleDateString(undefined, { day: "numeric", month: "short" });
}
