/**
 * The HTTP API under /api: accounts, conversations, history, user search, presence. JSON only; bad input is
 * always a 4xx with a message, never a 5xx.
 */
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { directConversationId, userIdSchema } from "../contracts";
import { createConversation, getConversations, type ConversationItem } from "../store/conversations";
import { listMemberships, type MembershipItem } from "../store/memberships";
import { MAX_PAGE, pageMessages } from "../store/messages";
import { createUser, getUser, searchUsers, UserExistsError, type UserItem } from "../store/users";
import { clearLoginFailures, loginKey, loginRetryAfter, recordLoginFailure, revokeToken } from "../store/auth";
import {
  addressThrottle,
  AuthError,
  decoyPasswordHash,
  defaultThrottle,
  hashPassword,
  passwordSchema,
  usernameSchema,
  verifyPassword,
  type VerifiedToken,
} from "./auth";
import type { GatewayContext } from "./context";
import type { ConnectionDirectory, MemberCache } from "./delivery/directory";
import { BodyError, readBody, sendError, sendJson } from "./http-util";
import type { Contacts as Presence } from "./presence/contacts";
import type { ConversationSummary } from "../contracts/api";

export function summarize(
  c: ConversationItem,
  m: Pick<MembershipItem, "lastReadSeq"> | undefined,
): ConversationSummary {
  const lastReadSeq = m?.lastReadSeq ?? 0;
  return {
    conversationId: c.conversationId,
    kind: c.kind,
    ...(c.title !== undefined ? { title: c.title } : {}),
    memberIds: c.memberIds,
    lastSeq: c.lastSeq,
    ...(c.lastMessageAt !== undefined ? { lastMessageAt: c.lastMessageAt } : {}),
    ...(c.lastPreview !== undefined ? { lastPreview: c.lastPreview } : {}),
    ...(c.lastSenderId !== undefined ? { lastSenderId: c.lastSenderId } : {}),
    lastReadSeq,
    unread: Math.max(0, c.lastSeq - lastReadSeq),
    createdAt: c.createdAt,
  };
}

export const MAX_GROUP_MEMBERS = 256;

const signupSchema = z
  .object({
    username: usernameSchema,
    password: passwordSchema,
    displayName: z.string().trim().min(1).max(64).optional(),
  })
  .strict();
const loginSchema = z.object({ username: z.string().max(64), password: z.string().max(1024) }).strict();
const createConversationSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("direct"), userId: userIdSchema }).strict(),
  z
    .object({
      kind: z.literal("group"),
      title: z.string().trim().min(1).max(100),
      memberIds: z.array(userIdSchema).min(1).max(MAX_GROUP_MEMBERS),
    })
    .strict(),
]);
const intParam = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const historyQuerySchema = z.object({
  before: intParam.optional(),
  after: intParam.optional(),
  limit: z.coerce.number().int().min(1).max(MAX_PAGE).default(50),
});
const userSearchSchema = z.object({
  prefix: z
    .string()
    .trim()
    .toLowerCase()
    .regex(/^[a-z0-9_]{1,32}$/, "must be 1–32 characters of a–z, 0–9 or _"),
  limit: z.coerce.number().int().min(1).max(50).default(20),
});
const presenceQuerySchema = z.object({
  userIds: z
    .string()
    .transform((s) => [
      ...new Set(
        s
          .split(",")
          .map((x) => x.trim())
          .filter(Boolean),
      ),
    ])
    .pipe(z.array(userIdSchema).min(1).max(100)),
});

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

function parse<T>(schema: z.ZodType<T>, input: unknown): T {
  const r = schema.safeParse(input);
  if (!r.success) {
    const issue = r.error.issues[0];
    const where = issue?.path.length ? `${issue.path.join(".")}: ` : "";
    throw new HttpError(400, "VALIDATION", `${where}${issue?.message ?? "invalid input"}`);
  }
  return r.data;
}

const publicUser = (u: Pick<UserItem, "userId" | "displayName">) => ({ userId: u.userId, displayName: u.displayName });

export interface ApiParts {
  readonly directory: ConnectionDirectory;
  readonly members: MemberCache;
  readonly presence: Presence;
}

export function createApi(ctx: GatewayContext, parts: ApiParts) {
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

  async function signup(req: IncomingMessage) {
    const input = parse(signupSchema, await readBody(req, ctx.settings.httpBodyLimitBytes));
    const passwordHash = await hashPassword(input.password);
    try {
      const user = await createUser(ctx.db, {
        userId: input.username,
        displayName: input.displayName ?? input.username,
        passwordHash,
        createdAt: ctx.now(),
      });
      return { status: 201, body: { token: await ctx.tokens.issue(user.userId), user: publicUser(user) } };
    } catch (err) {
      if (err instanceof UserExistsError) throw new HttpError(409, "CONFLICT", "that username is taken");
      throw err;
    }
  }

  async function login(req: IncomingMessage) {
    const input = parse(loginSchema, await readBody(req, ctx.settings.httpBodyLimitBytes));
    const username = input.username.trim().toLowerCase();
    // Counted in the auth table, so the lock holds on every gateway (one consistent read each per login).
    const userKey = loginKey("user", username);
    const addressKey = loginKey("addr", clientAddress(req).slice(0, 100));
    const now = ctx.now();
    const [byUser, byAddress] = await Promise.all([
      loginRetryAfter(ctx.db, userKey, now),
      loginRetryAfter(ctx.db, addressKey, now),
    ]);
    const wait = Math.max(byUser.waitMs, byAddress.waitMs);
    if (wait > 0) {
      throw new HttpError(429, "RATE_LIMITED", "too many failed logins; try again later", {
        "retry-after": String(Math.ceil(wait / 1000)),
      });
    }
    const user = userIdSchema.safeParse(username).success ? await getUser(ctx.db, username) : undefined;
    // Unknown users cost the same scrypt time as a wrong password.
    const ok = await verifyPassword(input.password, user?.passwordHash ?? (await decoyPasswordHash()));
    if (!user || !ok) {
      const failedAt = ctx.now();
      await Promise.all([
        recordLoginFailure(ctx.db, userKey, failedAt, defaultThrottle),
        recordLoginFailure(ctx.db, addressKey, failedAt, addressThrottle),
      ]);
      throw new HttpError(401, "UNAUTHENTICATED", "wrong username or password");
    }
    if (byUser.hasFailures) await clearLoginFailures(ctx.db, userKey);
    return { status: 200, body: { token: await ctx.tokens.issue(user.userId), user: publicUser(user) } };
  }

  async function listConversations(userId: string) {
    const memberships = await listMemberships(ctx.db, userId);
    const conversations = await getConversations(
      ctx.db,
      memberships.map((m) => m.conversationId),
    );
    const byId = new Map(memberships.map((m) => [m.conversationId, m]));
    const summaries = conversations
      .filter((c) => c.memberIds.includes(userId))
      .map((c) => summarize(c, byId.get(c.conversationId)))
      .sort((a, b) => (b.lastMessageAt ?? b.createdAt) - (a.lastMessageAt ?? a.createdAt));
    return { status: 200, body: { conversations: summaries } };
  }

  async function createConversationRoute(req: IncomingMessage, userId: string) {
    const input = parse(createConversationSchema, await readBody(req, ctx.settings.httpBodyLimitBytes));
    let item: Omit<ConversationItem, "lastSeq">;
    const now = ctx.now();
    if (input.kind === "direct") {
      if (input.userId === userId) throw new HttpError(400, "VALIDATION", "userId: cannot start a chat with yourself");
      if (!(await getUser(ctx.db, input.userId))) throw new HttpError(404, "NOT_FOUND", `no user ${input.userId}`);
      item = {
        conversationId: directConversationId(userId, input.userId),
        kind: "direct",
        memberIds: [userId, input.userId].sort(),
        createdBy: userId,
        createdAt: now,
      };
    } else {
      const memberIds = [...new Set([userId, ...input.memberIds])].sort();
      if (memberIds.length > MAX_GROUP_MEMBERS) {
        throw new HttpError(400, "VALIDATION", `memberIds: at most ${MAX_GROUP_MEMBERS} members`);
      }
      const found = await Promise.all(memberIds.map((u) => getUser(ctx.db, u)));
      const missing = memberIds.filter((_, i) => !found[i]);
      if (missing.length) throw new HttpError(404, "NOT_FOUND", `no such users: ${missing.join(", ")}`);
      item = {
        conversationId: `g:${randomBytes(12).toString("base64url")}`,
        kind: "group",
        title: input.title,
        memberIds,
        createdBy: userId,
        createdAt: now,
      };
    }
    const { conversation, created } = await createConversation(ctx.db, item);
    parts.members.remember(conversation);
    // Also when it already existed: a repeated create repairs what a crash in the first one left undone.
    await parts.presence.conversationCreated(conversation.memberIds);
    const memberships = await listMemberships(ctx.db, userId);
    const mine = memberships.find((m) => m.conversationId === conversation.conversationId);
    return { status: created ? 201 : 200, body: { conversation: summarize(conversation, mine) } };
  }

  async function history(url: URL, userId: string, conversationId: string) {
    const q = parse(historyQuerySchema, Object.fromEntries(url.searchParams));
    if (q.before !== undefined && q.after !== undefined) {
      throw new HttpError(400, "VALIDATION", "use either before or after, not both");
    }
    if (!(await parts.members.conversationFor(userId, conversationId))) {
      throw new HttpError(403, "NOT_MEMBER", "no such conversation, or you are not a member");
    }
    const page = await pageMessages(ctx.db, conversationId, q);
    return { status: 200, body: page };
  }

  async function presenceOf(url: URL, userId: string) {
    const q = parse(presenceQuerySchema, Object.fromEntries(url.searchParams));
    // An explicit question gets an answer from the tables: a cached list may predate a conversation just created.
    const contacts = new Set(await parts.presence.contactsOf(userId, true));
    contacts.add(userId);
    const visible = q.userIds.filter((u) => contacts.has(u));
    const presence = await Promise.all(
      visible.map(async (u) => {
        // Confirmed against the base table: the byUser index can still list a connection that just closed.
        const live = await parts.directory.confirmedLive(u);
        if (live.length) return { userId: u, online: true, lastSeen: Math.max(...live.map((c) => c.lastSeen)) };
        const user = await getUser(ctx.db, u);
        return { userId: u, online: false, lastSeen: user?.lastSeen ?? 0 };
      }),
    );
    return { status: 200, body: { presence } };
  }

  async function route(req: IncomingMessage, url: URL): Promise<{ status: number; body: unknown }> {
    const path = url.pathname;
    const method = req.method ?? "GET";
    if (path === "/api/signup" && method === "POST") return signup(req);
    if (path === "/api/login" && method === "POST") return login(req);
    const known =
      ["/api/me", "/api/users", "/api/conversations", "/api/presence", "/api/logout"].includes(path) ||
      /^\/api\/conversations\/[^/]+\/messages$/.test(path);
    if (!known) throw new HttpError(404, "NOT_FOUND", "no such route");
    const token = await authenticate(req);
    const userId = token.userId;
    if (path === "/api/logout" && method === "POST") {
      // Revoked until the token's own expiry, on every gateway: HTTP routes and upgrades refuse it with 401.
      await revokeToken(ctx.db, token.tokenId, token.expiresAt);
      return { status: 200, body: { ok: true } };
    }
    if (path === "/api/me" && method === "GET") {
      const user = await getUser(ctx.db, userId);
      if (!user) throw new HttpError(401, "UNAUTHENTICATED", "the account no longer exists");
      return { status: 200, body: { user: publicUser(user) } };
    }
    if (path === "/api/users" && method === "GET") {
      const q = parse(userSearchSchema, Object.fromEntries(url.searchParams));
      return { status: 200, body: { users: await searchUsers(ctx.db, q.prefix, q.limit) } };
    }
    if (path === "/api/conversations" && method === "GET") return listConversations(userId);
    if (path === "/api/conversations" && method === "POST") return createConversationRoute(req, userId);
    if (path === "/api/presence" && method === "GET") return presenceOf(url, userId);
    const m = /^\/api\/conversations\/([^/]+)\/messages$/.exec(path);
    if (m && method === "GET") return history(url, userId, decodeURIComponent(m[1]!));
    throw new HttpError(405, "VALIDATION", `${method} is not allowed here`);
  }

  return async function handleApi(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    try {
      const out = await route(req, url);
      sendJson(res, out.status, out.body);
    } catch (err) {
      if (err instanceof HttpError) return sendError(res, err.status, err.code, err.message, err.headers);
      if (err instanceof BodyError) return sendError(res, err.status, err.code, err.message);
      if (err instanceof URIError) return sendError(res, 400, "VALIDATION", "malformed path");
      ctx.log.error({ err, path: url.pathname }, "api request failed");
      sendError(res, 503, "UNAVAILABLE", "a dependency failed; try again");
    }
  };
}

/** The client's address: the rightmost X-Forwarded-For hop (the one the ALB appended), else the socket peer. */
export function clientAddress(req: IncomingMessage): string {
  const xff = req.headers["x-forwarded-for"];
  const last = typeof xff === "string" ? xff.split(",").pop()?.trim() : undefined;
  return last || req.socket.remoteAddress || "unknown";
}
