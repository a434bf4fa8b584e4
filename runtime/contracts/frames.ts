/**
 * WebSocket frames between browser and gateway (JSON text frames). docs/protocol.md explains each.
 * This module has no Node imports: the web client imports it too.
 */
import { z } from "zod";
import { clientMessageIdSchema, conversationIdSchema, messageBodySchema, seqSchema, userIdSchema } from "./ids";
import type { StoredMessage } from "./messages";

/** The subprotocol a client must offer; the token rides as a second one: `parley.auth.<jwt>`. */
export const WS_PROTOCOL = "parley.v1";
export const WS_AUTH_PROTOCOL_PREFIX = "parley.auth.";
export const WS_PATH = "/ws";

const cursorSchema = z.object({ conversationId: conversationIdSchema, afterSeq: seqSchema }).strict();

export const clientFrameSchema = z.discriminatedUnion("type", [
  z
    .object({
      type: z.literal("send"),
      conversationId: conversationIdSchema,
      clientMessageId: clientMessageIdSchema,
      body: messageBodySchema,
    })
    .strict(),
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
  "INTERNAL",
] as const;
export type ErrorCode = (typeof errorCodes)[number];

/** Close codes the gateway uses; 1xxx are RFC 6455, 4xxx are Parley's. */
export const closeCodes = {
  normal: 1000,
  goingAway: 1001, // gateway shutting down: reconnect (to another gateway)
  policy: 1008, // e.g. repeated rate-limit violations
  tooBig: 1009, // frame above maxPayload
  authExpired: 4001, // the token expired while connected: log in again
  tooManyConnections: 4029, // per-user connection cap
  slowConsumer: 4008, // the client stopped reading: reconnect and sync
} as const;

export type ServerFrame =
  | { type: "ready"; connectionId: string; userId: string; gatewayId: string; heartbeatMs: number }
  | { type: "accepted"; conversationId: string; clientMessageId: string }
  | ({ type: "message" } & StoredMessage)
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

export { userIdSchema };
