/**
 * The peer delivery endpoint on the internal port: other gateways hand over frames for sockets this gateway
 * holds. Guarded by the shared internal secret — any value in force during a rotation (secrets.ts) — and, in AWS,
 * by a security group that admits only gateways.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { conversationIdSchema, seqSchema, userIdSchema } from "../contracts";
import type { GatewayContext } from "./context";
import type { ConnectionDirectory } from "./directory";
import { readBody, sendJson, BodyError } from "./http-util";
import type { Presence } from "./presence";
import { acceptedSecrets } from "./secrets";
import type { LocalSessions } from "./sessions";

export const INTERNAL_SECRET_HEADER = "x-parley-internal-secret";
export const internalPaths = { deliver: "/internal/deliver", invalidate: "/internal/invalidate" } as const;

export const deliverRequestSchema = z.object({
  deliveries: z
    .array(
      z.object({
        /** The serialized frame, pushed as is. */
        frame: z.string(),
        connectionIds: z.array(z.string().max(128)).max(10_000),
        /** Set for `message` frames so the owning session can order and dedupe them. */
        message: z.object({ conversationId: conversationIdSchema, seq: seqSchema }).optional(),
      }),
    )
    .max(10_000),
});
export type DeliverRequest = z.infer<typeof deliverRequestSchema>;
export type Delivery = DeliverRequest["deliveries"][number];

export const deliverResponseSchema = z.object({ missing: z.array(z.string()) });

export const invalidateRequestSchema = z.object({
  /** Forget these users' cached live connections (they just connected somewhere). */
  userIds: z.array(userIdSchema).max(1000).default([]),
  /** Forget these users' cached co-member lists (a conversation including them was just created). */
  contacts: z.array(userIdSchema).max(1000).default([]),
});

function digest(s: string): Buffer {
  return createHash("sha256").update(s).digest();
}

/** Whether `given` is one of `secrets`; every value is compared, so the time taken does not tell which matched. */
export function secretMatches(given: string | string[] | undefined, secrets: string | readonly string[]): boolean {
  if (typeof given !== "string") return false;
  const g = digest(given);
  let matched = false;
  // Equal-length digests make each comparison constant-time regardless of the given length.
  for (const s of typeof secrets === "string" ? [secrets] : secrets) matched = timingSafeEqual(g, digest(s)) || matched;
  return matched;
}

/** Pushes each delivery to the local sockets it names; answers the ids this gateway does not hold. */
export function deliverLocally(sessions: LocalSessions, deliveries: readonly Delivery[]): string[] {
  const missing: string[] = [];
  for (const d of deliveries) {
    for (const id of d.connectionIds) {
      const s = sessions.get(id);
      if (!s) missing.push(id);
      else if (d.message) s.pushMessage(d.message, d.frame);
      else s.push(d.frame);
    }
  }
  return missing;
}

export function createInternalHandler(
  ctx: GatewayContext,
  parts: {
    sessions: LocalSessions;
    directory: ConnectionDirectory;
    presence: Pick<Presence, "forgetContacts">;
  },
) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method === "GET" && path === "/healthz") {
      return sendJson(res, 200, { ok: true, gatewayId: ctx.gatewayId });
    }
    const accepted = acceptedSecrets(ctx.config.internalSecret, ctx.config.internalSecretRotation, ctx.now());
    if (!secretMatches(req.headers[INTERNAL_SECRET_HEADER], accepted)) {
      return sendJson(res, 401, { error: { code: "UNAUTHENTICATED", message: "internal secret required" } });
    }
    if (req.method !== "POST") {
      return sendJson(res, 404, { error: { code: "NOT_FOUND", message: "no such route" } });
    }
    try {
      const body = await readBody(req, ctx.settings.internalBodyLimitBytes);
      if (path === internalPaths.deliver) {
        const parsed = deliverRequestSchema.safeParse(body);
        if (!parsed.success) {
          return sendJson(res, 400, { error: { code: "VALIDATION", message: parsed.error.message } });
        }
        return sendJson(res, 200, { missing: deliverLocally(parts.sessions, parsed.data.deliveries) });
      }
      if (path === internalPaths.invalidate) {
        const parsed = invalidateRequestSchema.safeParse(body);
        if (!parsed.success) {
          return sendJson(res, 400, { error: { code: "VALIDATION", message: parsed.error.message } });
        }
        for (const u of parsed.data.userIds) parts.directory.invalidate(u);
        parts.presence.forgetContacts(parsed.data.contacts);
        res.writeHead(204).end();
        return;
      }
      return sendJson(res, 404, { error: { code: "NOT_FOUND", message: "no such route" } });
    } catch (err) {
      if (err instanceof BodyError)
        return sendJson(res, err.status, { error: { code: err.code, message: err.message } });
      ctx.log.error({ err }, "internal request failed");
      return sendJson(res, 500, { error: { code: "INTERNAL", message: "internal error" } });
    }
  };
}
