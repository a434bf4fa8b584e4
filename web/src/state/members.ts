/**
 * The member list a group's header opens: who is in it, in the order a reader scans for someone to talk to —
 * yourself first, then those online, then the rest, each part by name — with each member's presence as the
 * presence poller and presence frames left it in the store (unknown until the first read answers).
 */
import type { ConversationSummary, Presence } from "./api";

export interface MemberRow {
  readonly userId: string;
  readonly name: string;
  readonly me: boolean;
  /** undefined: no presence read has answered for this member yet. */
  readonly online: boolean | undefined;
  /** Epoch ms last seen, when offline and known. */
  readonly lastSeen?: number;
}

export function memberRows(
  summary: Pick<ConversationSummary, "memberIds">,
  me: string,
  names: Readonly<Record<string, string>>,
  presence: Readonly<Record<string, Presence>>,
): MemberRow[] {
  const rank = (r: MemberRow) => (r.me ? 0 : r.online ? 1 : 2);
  return summary.memberIds
    .map((userId): MemberRow => {
      const p = presence[userId];
      return {
        userId,
        name: names[userId] ?? userId,
        me: userId === me,
        // You are online by definition while you read this.
        online: userId === me ? true : p?.online,
        ...(p && !p.online && p.lastSeen ? { lastSeen: p.lastSeen } : {}),
      };
    })
    .sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name) || a.userId.localeCompare(b.userId));
}
