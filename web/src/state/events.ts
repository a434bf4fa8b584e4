/**
 * How the log's changes read to a person: the system lines between messages ("Alice added Carol"), the
 * refusals of a change ("You can only edit your own messages"), who may do what to a message, and the effect of
 * a membership event on a conversation's summary. Pure: the view renders the strings, the client applies the
 * summaries.
 */
import type { ErrorCode } from "../../../runtime/contracts/frames";
import type { DEFAULT_EDIT_WINDOW_SECONDS } from "../../../runtime/contracts/messages";
import type { ConversationSummary } from "./api";
import type { StoredMessage, SystemEvent } from "./messageList";

/** The emoji the reaction picker offers (any emoji a message already carries can be toggled from its chip). */
export const QUICK_EMOJI = ["👍", "❤️", "😂", "😮", "😢", "🙏", "🎉", "👀"] as const;

/**
 * The server's default edit window (DEFAULT_EDIT_WINDOW_SECONDS; typed against it, not imported: a value import
 * from runtime/contracts/messages.ts would bundle its zod schemas). The client cannot know a deployment's
 * PARLEY_EDIT_WINDOW_SECONDS: this only hides the Edit action, the server decides.
 */
const EDIT_WINDOW_SECONDS: typeof DEFAULT_EDIT_WINDOW_SECONDS = 24 * 3600;
export const EDIT_WINDOW_MS = EDIT_WINDOW_SECONDS * 1000;

type Names = Readonly<Record<string, string>>;

function person(userId: string, me: string, names: Names, start: boolean): string {
  if (userId === me) return start ? "You" : "you";
  return names[userId] ?? userId;
}

function list(words: readonly string[]): string {
  if (words.length <= 1) return words.join("");
  return `${words.slice(0, -1).join(", ")} and ${words[words.length - 1]}`;
}

/** The line a membership or title change shows as: "Alice added Carol", "Bob left", "You renamed the group to X". */
export function systemText(e: SystemEvent, me: string, names: Names): string {
  const actor = person(e.senderId, me, names, true);
  switch (e.kind) {
    case "add":
      return `${actor} added ${list(e.userIds.map((u) => person(u, me, names, false)))}`;
    case "remove":
      return `${actor} removed ${person(e.userId, me, names, false)}`;
    case "leave":
      return `${actor} left`;
    case "rename":
      return `${actor} renamed the group to ${e.title}`;
  }
}

/** The user ids a system line names, whose display names the client should know. */
export function namedIn(e: SystemEvent): string[] {
  return e.kind === "add" ? [e.senderId, ...e.userIds] : e.kind === "remove" ? [e.senderId, e.userId] : [e.senderId];
}

const verbs: Record<string, string> = {
  send: "send the message",
  edit: "edit the message",
  delete: "delete the message",
  react: "react",
  addMembers: "add members",
  removeMember: "remove the member",
  leave: "leave the group",
  rename: "rename the group",
};

const reasons: Partial<Record<ErrorCode, string>> = {
  NOT_MEMBER: "you are not a member of this conversation",
  FORBIDDEN: "you are not allowed to",
  NOT_FOUND: "it no longer exists",
  GONE: "the message was deleted",
  EDIT_WINDOW_CLOSED: "the time to edit it has passed",
  LIMIT_REACHED: "a limit was reached",
  RATE_LIMITED: "you are going too fast; try again in a moment",
  UNAVAILABLE: "the server is busy; try again",
  VALIDATION: "it was not valid",
};

/** A refusal as a sentence: "Could not edit the message: the time to edit it has passed (…server's words…)." */
export function errorText(code: string, message: string | undefined, frameType: string | undefined): string {
  const what = verbs[frameType ?? ""] ?? "do that";
  const why = reasons[code as ErrorCode] ?? "something went wrong";
  const detail = message && message.trim() ? ` (${message.trim()})` : "";
  return `Could not ${what}: ${why}${detail}.`;
}

/** Whether `me` may edit `m` now (own, not deleted, within the edit window); the server checks again. */
export function canEdit(m: StoredMessage, me: string, now: number, windowMs = EDIT_WINDOW_MS): boolean {
  return m.senderId === me && !m.deleted && now - m.sentAt <= windowMs;
}

export function canDelete(m: StoredMessage, me: string): boolean {
  return m.senderId === me && !m.deleted;
}

/** A conversation's summary after a membership or title change (the same object when it changes nothing). */
export function summaryAfter(c: ConversationSummary, e: SystemEvent): ConversationSummary {
  switch (e.kind) {
    case "rename":
      return c.title === e.title ? c : { ...c, title: e.title };
    case "add": {
      const added = e.userIds.filter((u) => !c.memberIds.includes(u));
      return added.length === 0 ? c : { ...c, memberIds: [...c.memberIds, ...added] };
    }
    case "remove":
    case "leave": {
      const gone = e.kind === "remove" ? e.userId : e.senderId;
      return c.memberIds.includes(gone) ? { ...c, memberIds: c.memberIds.filter((u) => u !== gone) } : c;
    }
  }
}

/** Whether the event takes `me` out of the conversation ("removed" or "left"), brings them in, or neither. */
export function membershipOf(e: SystemEvent, me: string): "removed" | "left" | "added" | undefined {
  if (e.kind === "remove" && e.userId === me) return "removed";
  if (e.kind === "leave" && e.senderId === me) return "left";
  if (e.kind === "add" && e.userIds.includes(me)) return "added";
  return undefined;
}
