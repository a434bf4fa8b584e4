/**
 * WebSocket frames between browser and gateway (JSON text frames). docs/protocol.md explains each.
 * This module has no Node imports: the web client imports it too.
 */
import { z } from "zod";
import { clientMessageIdSchema, conversationIdSchema, messageBodySchema, seqSchema, userIdSchema } from "./ids";
import {
  emojiSchema,
  groupTitleSchema,
  isStoredEvent,
  MAX_ADD_MEMBERS,
  type StoredEntry,
  type StoredEvent,
  type StoredMessage,
} from "./messages";

export { closeCodes, WS_AUTH_PROTOCOL_PREFIX, WS_PATH, WS_PROTOCOL } from "./wire";

const target = seqSchema.min(1);
const change = { conversationId: conversationIdSchema, clientMessageId: clientMessageIdSchema };

const cursorSchema = z.object({ conversationId: conversationIdSchema, afterSeq: seqSchema }).strict();

export const clientFrameSchema = z.discriminatedUnion("type", [
  z
    .object({
      type: z.literal("send"),
      conversationId: conversationIdSchema,
      clientMessageId: clientMessageIdSchema,
      body: messageBodySchema,
      /** The seq of the message this one replies to. */
      replyTo: seqSchema.min(1).optional(),
    })
    .strict(),
  /**
   * Changes to the conversation: each is an entry in its log, answered `accepted` once queued (like `send`, and
   * resent with the same clientMessageId), then delivered to every member as an `event` frame.
   */
  z.object({ ...change, type: z.literal("edit"), seq: target, body: messageBodySchema }).strict(),
  z.object({ ...change, type: z.literal("delete"), seq: target }).strict(),
  z.object({ ...change, type: z.literal("react"), seq: target, emoji: emojiSchema, on: z.boolean() }).strict(),
  z
    .object({ ...change, type: z.literal("addMembers"), userIds: z.array(userIdSchema).min(1).max(MAX_ADD_MEMBERS) })
    .strict(),
  z.object({ ...change, type: z.literal("removeMember"), userId: userIdSchema }).strict(),
  z.object({ ...change, type: z.literal("leave") }).strict(),
  z.object({ ...change, type: z.literal("rename"), title: groupTitleSchema }).strict(),
  /** Catch up after (re)connecting: every stored message with seq > afterSeq, in pages. */
  z.object({ type: z.literal("sync"), cursors: z.array(cursorSchema).max(500) }).strict(),
  z.object({ type: z.literal("typing"), conversationId: conversationIdSchema }).strict(),
  z.object({ type: z.literal("read"), conversationId: conversationIdSchema, seq: seqSchema }).strict(),
  /** App-level keepalive for clients that cannot see WebSocket pings. */
  z.object({ type: z.literal("ping") }).strict(),
]);
export type ClientFrame = z.infer<typeof clientFrameSchema>;

export const errorCodes = [
  "BAD_FRAME", // not JSON, or not an object with a known `type`
  "VALIDATION", // a known frame with invalid fields
  "NOT_MEMBER", // the conversation does not exist or the user is not in it
  "RATE_LIMITED", // token bucket empty; the frame was dropped, nothing enqueued
  "UNAVAILABLE", // a dependency (queue, table) failed; a `send` was NOT accepted, resend it
  "FORBIDDEN", // a change the user may not make: another's message, a removal by a non-creator, a direct chat
  "NOT_FOUND", // the target seq is not a message of the conversation, or an added user does not exist
  "GONE", // the target message was deleted
  "EDIT_WINDOW_CLOSED", // the edit window (PARLEY_EDIT_WINDOW_SECONDS) after sending has passed
  "LIMIT_REACHED", // distinct emoji per message, edits per message, or members per group
  "INTERNAL",
] as const;
export type ErrorCode = (typeof errorCodes)[number];

export type ServerFrame =
  | { type: "ready"; connectionId: string; userId: string; gatewayId: string; heartbeatMs: number }
  | { type: "accepted"; conversationId: string; clientMessageId: string }
  | ({ type: "message" } & StoredMessage)
  /** Any other log entry; `kind` says which (an older client ignores kinds it does not know). */
  | ({ type: "event" } & StoredEvent)
  /** A conversation the user was just made a member of at creation (ephemeral): refetch the chat list. */
  | { type: "conversation"; conversationId: string }
  | { type: "synced"; cursors: { conversationId: string; lastSeq: number }[] }
  | { type: "typing"; conversationId: string; userId: string }
  | { type: "read"; conversationId: string; userId: string; seq: number }
  | { type: "presence"; userId: string; online: boolean; lastSeen: number }
  | { type: "pong" }
  | {
      type: "error";
      code: ErrorCode;
      message: string;
      ref?: { type?: string; clientMessageId?: string; conversationId?: string };
    };

/** The frame a stored log entry travels in: `message` for a message, `event` for every other kind. */
export function entryFrame(entry: StoredEntry): ServerFrame {
  return isStoredEvent(entry) ? { type: "event", ...entry } : { type: "message", ...entry };
}

export { userIdSchema };
