/**
 * The smoke test's view of the HTTP API: the response shapes it relies on (zod schemas) and one typed call that
 * checks the status and the body against them, so a step reads as "sign up, expect 201, get a token".
 */
import { z } from "zod";
import { describeZodError } from "../contracts/validation";
import { requestJson } from "./http";

const userSchema = z.object({ userId: z.string(), displayName: z.string() });
const conversationSchema = z.object({
  conversationId: z.string(),
  kind: z.string(),
  memberIds: z.array(z.string()),
  lastSeq: z.number(),
});
const storedMessageSchema = z.object({
  conversationId: z.string(),
  seq: z.number(),
  senderId: z.string(),
  clientMessageId: z.string(),
  body: z.string(),
  sentAt: z.number(),
  storedAt: z.number(),
});

export const schemas = {
  health: z.object({ ok: z.literal(true), gatewayId: z.string() }),
  auth: z.object({ token: z.string().min(1), user: userSchema }),
  me: z.object({ user: userSchema }),
  createConversation: z.object({ conversation: conversationSchema }),
  conversations: z.object({ conversations: z.array(conversationSchema) }),
  history: z.object({ messages: z.array(storedMessageSchema), hasMore: z.boolean() }),
};

export interface CallOptions {
  readonly token?: string;
  readonly body?: unknown;
  /** Statuses the step accepts; default any 2xx. */
  readonly expectStatus?: readonly number[];
  /** Origin to call; default the stack's. */
  readonly via?: string;
}

export type SmokeApi = <S extends z.ZodType>(
  method: "GET" | "POST",
  path: string,
  schema: S,
  options?: CallOptions,
) => Promise<z.infer<S>>;

/** Calls against `origin` (or `via`), each with the step deadline, aborted by `signal`. */
export function smokeApi(origin: string, timeoutMs: number, signal?: AbortSignal): SmokeApi {
  return async (method, path, schema, options = {}) => {
    const res = await requestJson(options.via ?? origin, method, path, { ...options, timeoutMs, signal });
    const label = `${method} ${path.split("?")[0]}`;
    if (options.expectStatus && !options.expectStatus.includes(res.status)) {
      throw new Error(`${label} → HTTP ${res.status}, expected ${options.expectStatus.join(" or ")}`);
    }
    const parsed = schema.safeParse(res.body);
    if (!parsed.success) {
      throw new Error(`${label} returned an unexpected body: ${describeZodError(parsed.error, { root: "(root)" })}`);
    }
    return parsed.data;
  };
}

export function historyPath(conversationId: string): string {
  return `/api/conversations/${encodeURIComponent(conversationId)}/messages?limit=100`;
}
