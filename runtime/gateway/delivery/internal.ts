/**
 * The receiving side of the internal port: other gateways hand over frames for sockets this gateway holds
 * (delivered by local.ts) and ask it to forget cached state. Guarded by the shared internal secret — any value
 * in force during a rotation (secrets.ts) — and, in AWS, by a security group that admits only gateways.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { GatewayContext } from "../context";
import { describeZodError } from "../../contracts";
import { readBody, sendError, sendJson, BodyError } from "../http-util";
import type { Contacts } from "../presence/contacts";
import { acceptedSecrets } from "../secrets";
import type { LocalSessions } from "../sessions";
import type { ConnectionDirectory, MemberCache } from "./directory";
import { deliverLocally } from "./local";
import {
  deliverRequestSchema,
  INTERNAL_SECRET_HEADER,
  internalPaths,
  invalidateRequestSchema,
  type ConnectionChange,
} from "./peer-protocol";

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

export function createInternalHandler(
  ctx: GatewayContext,
  parts: {
    sessions: LocalSessions;
    directory: ConnectionDirectory;
    contacts: Pick<Contacts, "forget">;
    members: Pick<MemberCache, "forget">;
  },
) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method === "GET" && path === "/healthz") {
      return sendJson(res, 200, { ok: true, gatewayId: ctx.gatewayId });
    }
    const accepted = acceptedSecrets(ctx.config.internalSecret, ctx.config.internalSecretRotation, ctx.now());
    if (!secretMatches(req.headers[INTERNAL_SECRET_HEADER], accepted)) {
      return sendError(res, 401, "UNAUTHENTICATED", "internal secret required");
    }
    if (req.method !== "POST") {
      return sendError(res, 404, "NOT_FOUND", "no such route");
    }
    try {
      const body = await readBody(req, ctx.settings.internalBodyLimitBytes);
      if (path === internalPaths.deliver) {
        const parsed = deliverRequestSchema.safeParse(body);
        if (!parsed.success) {
          return sendError(res, 400, "VALIDATION", describeZodError(parsed.error));
        }
        return sendJson(res, 200, { missing: deliverLocally(parts.sessions, parsed.data.deliveries) });
      }
      if (path === internalPaths.invalidate) {
        const parsed = invalidateRequestSchema.safeParse(body);
        if (!parsed.success) {
          return sendError(res, 400, "VALIDATION", describeZodError(parsed.error));
        }
        const changes = new Map<string, ConnectionChange[]>();
        for (const c of parsed.data.changes) changes.set(c.userId, [...(changes.get(c.userId) ?? []), c]);
        for (const u of parsed.data.userIds) parts.directory.invalidate(u, changes.get(u));
        parts.contacts.forget(parsed.data.contacts);
        parts.members.forget(parsed.data.conversations);
        res.writeHead(204).end();
        return;
      }
      return sendError(res, 404, "NOT_FOUND", "no such route");
    } catch (err) {
      if (err instanceof BodyError) return sendError(res, err.status, err.code, err.message);
      ctx.log.error({ err }, "internal request failed");
      return sendError(res, 500, "INTERNAL", "internal error");
    }
  };
}
