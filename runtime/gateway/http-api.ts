/**
 * The HTTP API under /api: serves the route table and request schemas of contracts/api.ts with the handlers in
 * api/. For each request it finds the route, checks the bearer token, parses the path, query and body with the
 * route's schemas and answers; every refusal is a status with an HttpErrorBody, and bad input is always a 4xx
 * with a message, never a 5xx.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { z } from "zod";
import { describeZodError } from "../contracts";
import { apiRequestSchemas, apiRoutes, matchPath, type RequestSchemas, type RouteName } from "../contracts/api";
import { accountRoutes } from "./api/accounts";
import { conversationRoutes } from "./api/conversations";
import type { ApiParts, RouteHandlers, RouteRequest, RouteResult } from "./api/types";
import { userRoutes } from "./api/users";
import { AuthError, type VerifiedToken } from "./auth";
import type { GatewayContext } from "./context";
import { HttpError, readBody, sendError, sendJson } from "./http-util";

export type { ApiParts } from "./api/types";

const routeNames = Object.keys(apiRoutes) as RouteName[];

function parseInput<T>(schema: z.ZodType<T>, input: unknown): T {
  const r = schema.safeParse(input);
  if (!r.success) throw new HttpError(400, "VALIDATION", describeZodError(r.error));
  return r.data;
}

export function createApi(ctx: GatewayContext, parts: ApiParts) {
  const handlers: RouteHandlers = {
    ...accountRoutes(ctx),
    ...conversationRoutes(ctx, parts),
    ...userRoutes(ctx, parts),
  };

  /** Verifies the bearer token, revocation included (ctx.tokens checks the auth table on every call). */
  async function authenticate(req: IncomingMessage): Promise<VerifiedToken> {
    const header = req.headers.authorization;
    const m = typeof header === "string" ? /^Bearer ([A-Za-z0-9._-]+)$/.exec(header) : null;
    if (!m) throw new HttpError(401, "UNAUTHENTICATED", "Authorization: Bearer <token> required");
    try {
      return await ctx.tokens.verify(m[1]!);
    } catch (err) {
      if (err instanceof AuthError) throw new HttpError(401, "UNAUTHENTICATED", err.message);
      throw err;
    }
  }

  async function route(req: IncomingMessage, url: URL): Promise<RouteResult<RouteName>> {
    const method = req.method ?? "GET";
    const onPath = routeNames.flatMap((name) => {
      const raw = matchPath(apiRoutes[name].path, url.pathname);
      return raw ? [{ name, raw }] : [];
    });
    const found = onPath.find(({ name }) => apiRoutes[name].method === method);
    if (!found) {
      // Only a caller with a valid token learns that a path exists but takes other methods (405); a path that
      // public routes alone serve has no token to check, so any other method there is no route at all.
      if (!onPath.some(({ name }) => apiRoutes[name].auth)) throw new HttpError(404, "NOT_FOUND", "no such route");
      await authenticate(req);
      throw new HttpError(405, "VALIDATION", `${method} is not allowed here`);
    }
    const token = apiRoutes[found.name].auth ? await authenticate(req) : undefined;
    // Decoded after the token check: an anonymous caller gets its 401 before any 400 for a malformed encoding.
    const params = Object.fromEntries(Object.entries(found.raw).map(([k, v]) => [k, decodeURIComponent(v)]));
    const schemas: RequestSchemas = apiRequestSchemas[found.name];
    const query = schemas.query ? parseInput(schemas.query, Object.fromEntries(url.searchParams)) : undefined;
    const limit = ctx.settings.httpBodyLimitBytes;
    const body = schemas.body ? parseInput(schemas.body, await readBody(req, limit)) : undefined;
    // The table and the handlers agree per name (RouteHandlers); one name at a time is past what TS can check here.
    const handler = handlers[found.name] as (request: RouteRequest<RouteName>) => Promise<RouteResult<RouteName>>;
    return handler({ req, token, params, query, body } as RouteRequest<RouteName>);
  }

  return async function handleApi(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    try {
      const out = await route(req, url);
      sendJson(res, out.status, out.body);
    } catch (err) {
      if (err instanceof HttpError) return sendError(res, err.status, err.code, err.message, err.headers);
      if (err instanceof URIError) return sendError(res, 400, "VALIDATION", "malformed path");
      ctx.log.error({ err, path: url.pathname }, "api request failed");
      sendError(res, 503, "UNAVAILABLE", "a dependency failed; try again");
    }
  };
}
