import { z } from "zod";

/** The bounds in userIdSchema's pattern, for forms that check lengths as the user types (a test keeps them equal). */
export const USERNAME_MIN = 3;
export const USERNAME_MAX = 32;

/**
 * userId is the normalised username: lowercase, immutable, safe in keys and URLs. A regex literal, not one built
 * from the constants: `new RegExp` would defeat the web build's tree-shaking of zod (+19 KB gzip).
 */
export const userIdSchema = z.string().regex(/^[a-z0-9_]{3,32}$/, "must be 3–32 characters of a–z, 0–9 or _");

/** `d:<a>:<b>` for a direct chat (members sorted), `g:<random>` for a group. */
export const conversationIdSchema = z
  .string()
  .regex(/^(d:[a-z0-9_]{3,32}:[a-z0-9_]{3,32}|g:[A-Za-z0-9_-]{8,40})$/, "is not a conversation id");

export const clientMessageIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, "must be 1–64 characters of A–Z, a–z, 0–9, _ or -");

export const MAX_BODY_CHARS = 4000;

export const messageBodySchema = z
  .string()
  .max(MAX_BODY_CHARS, `must be at most ${MAX_BODY_CHARS} characters`)
  .refine((s) => s.trim().length > 0, "must not be blank");

export const seqSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export function directConversationId(a: string, b: string): string {
  const [x, y] = [a, b].sort();
  return `d:${x}:${y}`;
}

export function dedupeKeyOf(m: { conversationId: string; senderId: string; clientMessageId: string }): string {
  return `${m.conversationId}|${m.senderId}|${m.clientMessageId}`;
}
