/**
 * Who may add which entry to a conversation's log, decided once for both ends of the pipeline: the gateway asks
 * before it queues an entry (the client gets the refusal's code at once), and the persister asks again at the
 * entry's place in the conversation's order, where it is authoritative (a refused entry is poison, with the
 * refusal as its reason). Pure: no reads, no Node imports.
 */
import { MAX_GROUP_MEMBERS } from "./api";
import type { ErrorCode } from "./frames";
import {
  isStoredEvent,
  MAX_EDITS_PER_MESSAGE,
  MAX_REACTION_EMOJI,
  type InboundEntry,
  type StoredEntry,
  type StoredMessage,
} from "./messages";

export interface Refusal {
  readonly code: ErrorCode;
  readonly message: string;
}

/** The parts of a conversation the rules read. */
export interface RuleConversation {
  readonly kind: "direct" | "group";
  readonly memberIds: readonly string[];
  readonly createdBy: string;
}

export interface RuleOptions {
  /** How long after a message was sent its sender may edit it. */
  readonly editWindowMs: number;
}

/** The seq an entry refers to (the message it changes or replies to), if any. */
export function targetOf(entry: InboundEntry): number | undefined {
  if (entry.kind === undefined || entry.kind === "message") return entry.replyTo;
  return "target" in entry ? entry.target : undefined;
}

const refuse = (code: ErrorCode, message: string): Refusal => ({ code, message });

/**
 * Why `entry` may not be added, or undefined when it may. `conversation` is its state before the entry (undefined:
 * it does not exist), `target` the stored entry at targetOf(entry) (undefined: none).
 */
export function refusalOf(
  entry: InboundEntry,
  conversation: RuleConversation | undefined,
  target: StoredEntry | undefined,
  options: RuleOptions,
): Refusal | undefined {
  const actor = entry.senderId;
  if (!conversation?.memberIds.includes(actor)) {
    return refuse("NOT_MEMBER", "no such conversation, or you are not a member");
  }
  const kind = entry.kind ?? "message";
  const message = target && !isStoredEvent(target) ? (target as StoredMessage) : undefined;
  const needMessage = (): Refusal | undefined =>
    message ? undefined : refuse("NOT_FOUND", `seq ${targetOf(entry)} is not a message of this conversation`);
  switch (kind) {
    case "message":
      return targetOf(entry) !== undefined ? needMessage() : undefined;
    case "edit":
    case "delete": {
      const missing = needMessage();
      if (missing) return missing;
      if (message!.deleted) return refuse("GONE", "the message was deleted");
      if (message!.senderId !== actor) return refuse("FORBIDDEN", `only its sender may ${kind} a message`);
      if (kind === "edit") {
        if (entry.sentAt - message!.sentAt > options.editWindowMs) {
          return refuse(
            "EDIT_WINDOW_CLOSED",
            `a message can be edited for ${Math.round(options.editWindowMs / 60_000)} minutes after sending`,
          );
        }
        if ((message!.edits?.length ?? 0) >= MAX_EDITS_PER_MESSAGE) {
          return refuse("LIMIT_REACHED", `a message can be edited at most ${MAX_EDITS_PER_MESSAGE} times`);
        }
      }
      return undefined;
    }
    case "react": {
      const missing = needMessage();
      if (missing) return missing;
      if (message!.deleted) return refuse("GONE", "the message was deleted");
      const e = entry as Extract<InboundEntry, { kind: "react" }>;
      const reactions = message!.reactions ?? {};
      if (e.on && !reactions[e.emoji] && Object.keys(reactions).length >= MAX_REACTION_EMOJI) {
        return refuse("LIMIT_REACHED", `a message can carry at most ${MAX_REACTION_EMOJI} different emoji`);
      }
      return undefined;
    }
    case "add":
    case "remove":
    case "leave":
    case "rename": {
      if (conversation.kind !== "group")
        return refuse("FORBIDDEN", "a direct conversation's members and title are fixed");
      if (kind === "add") {
        const e = entry as Extract<InboundEntry, { kind: "add" }>;
        const after = new Set([...conversation.memberIds, ...e.userIds]);
        if (after.size > MAX_GROUP_MEMBERS) {
          return refuse("LIMIT_REACHED", `a group has at most ${MAX_GROUP_MEMBERS} members`);
        }
      }
      if (kind === "remove") {
        const e = entry as Extract<InboundEntry, { kind: "remove" }>;
        if (conversation.createdBy !== actor) return refuse("FORBIDDEN", "only the group's creator may remove members");
        if (!conversation.memberIds.includes(e.userId)) return refuse("NOT_FOUND", `${e.userId} is not a member`);
      }
      return undefined;
    }
  }
}

/** The conversation's members after `entry` (unchanged for all but add, remove and leave). */
export function membersAfter(entry: InboundEntry, memberIds: readonly string[]): string[] {
  switch (entry.kind) {
    case "add":
      return [...new Set([...memberIds, ...entry.userIds])].sort();
    case "remove":
      return memberIds.filter((m) => m !== entry.userId);
    case "leave":
      return memberIds.filter((m) => m !== entry.senderId);
    default:
      return [...memberIds];
  }
}

/** Who is told of `entry`: the members after it, and a member it removed (so their client knows). */
export function recipientsOf(entry: InboundEntry, memberIds: readonly string[]): string[] {
  const after = membersAfter(entry, memberIds);
  const gone = entry.kind === "remove" ? entry.userId : entry.kind === "leave" ? entry.senderId : undefined;
  return gone && !after.includes(gone) ? [...after, gone] : after;
}
