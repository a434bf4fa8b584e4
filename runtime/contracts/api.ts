/**
 * The HTTP API under /api, written once for both ends: each route's method, path and whether it needs a bearer
 * token (`apiRoutes`), the schemas of its body or query (`apiRequestSchemas`), what it answers (`ApiResponses`),
 * and the error body every refusal carries (`HttpErrorBody`). The gateway serves this table (gateway/http-api.ts) and the web
 * client builds its calls from it (web/src/state/api.ts); docs/protocol.md describes the routes. zod and other
 * contracts only, no Node imports: the web build includes this file.
 */
import { z } from "zod";
import { userIdSchema } from "./ids";
import type { StoredEntry } from "./messages";

export interface User {
  userId: string;
  displayName: string;
}

/** One row of the chat list: the conversation's summary plus the caller's read position. */
export interface ConversationSummary {
  conversationId: string;
  kind: "direct" | "group";
  title?: string;
  memberIds: string[];
  /** Who created it: in a group, the one member who may remove others. */
  createdBy: string;
  lastSeq: number;
  lastMessageAt?: number;
  lastPreview?: string;
  lastSenderId?: string;
  lastReadSeq: number;
  /** lastSeq − lastReadSeq (entries of every kind), or 0 once the newest message is read. */
  unread: number;
  createdAt: number;
}

export interface PresenceStatus {
  userId: string;
  online: boolean;
  lastSeen: number;
}

/** Most messages one page of history holds, over HTTP and in a WebSocket sync alike. */
export const MAX_PAGE = 100;
export const MAX_GROUP_MEMBERS = 256;
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 128;
export const DISPLAY_NAME_MAX = 64;
/** A browse cursor is a stored sort key: a normalised name (≤ 200 chars), a separator and a user id. */
export const USER_CURSOR_MAX = 256;
/** How much of the newest message a chat list row shows; the store keeps it and the client predicts it alike. */
export const PREVIEW_CHARS = 120;

/** The first PREVIEW_CHARS UTF-16 units of a body, never ending inside a surrogate pair (emoji, astral CJK). */
export function previewOf(body: string): string {
  const cut = body.slice(0, PREVIEW_CHARS);
  const last = cut.charCodeAt(cut.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut;
}

export const passwordSchema = z
  .string()
  .min(PASSWORD_MIN, `must be at least ${PASSWORD_MIN} characters`)
  .max(PASSWORD_MAX, `must be at most ${PASSWORD_MAX} characters`);

/** Usernames are case-insensitive: the lowercase form is the immutable userId. */
export const usernameSchema = z
  .string()
  .max(64)
  .transform((s) => s.trim().toLowerCase())
  .pipe(userIdSchema);

export const signupRequestSchema = z
  .object({
    username: usernameSchema,
    password: passwordSchema,
    displayName: z.string().trim().min(1).max(DISPLAY_NAME_MAX).optional(),
  })
  .strict();

export const loginRequestSchema = z.object({ username: z.string().max(64), password: z.string().max(1024) }).strict();

export const newConversationSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("direct"), userId: userIdSchema }).strict(),
  z
    .object({
      kind: z.literal("group"),
      title: z.string().trim().min(1).max(100),
      memberIds: z.array(userIdSchema).min(1).max(MAX_GROUP_MEMBERS),
    })
    .strict(),
]);
export type NewConversation = z.input<typeof newConversationSchema>;

// Query values arrive as strings; `<number>` types what a caller passes in before they are written into the URL.
// Built from z alone (no method called on another const): the web bundle drops the schemas only so.
const optionalSeqParam = z.coerce.number<number>().int().min(0).max(Number.MAX_SAFE_INTEGER).optional();

export const historyQuerySchema = z.object({
  before: optionalSeqParam,
  after: optionalSeqParam,
  limit: z.coerce.number<number>().int().min(1).max(MAX_PAGE).default(50),
});

/**
 * A search (`prefix`: the start of a username or of display-name words) or, with no prefix, one page of the
 * browse list in name order, continued with the `next` the previous page answered as `after`.
 */
export const userSearchQuerySchema = z
  .object({
    prefix: z.string().trim().max(DISPLAY_NAME_MAX, `must be at most ${DISPLAY_NAME_MAX} characters`).default(""),
    after: z.string().min(1).max(USER_CURSOR_MAX, `must be at most ${USER_CURSOR_MAX} characters`).optional(),
    limit: z.coerce.number<number>().int().min(1).max(50).default(20),
  })
  .refine((q) => !(q.prefix && q.after), { message: "pages only the browse list (no prefix)", path: ["after"] });

/** `userIds` is comma-separated on the wire; duplicates and blanks are dropped before the bounds apply. */
export const presenceQuerySchema = z.object({
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

export interface RouteSpec {
  readonly method: "GET" | "POST";
  /** `:name` marks a path parameter: one non-empty segment, URI-encoded. */
  readonly path: `/api/${string}`;
  /** Whether the route needs `Authorization: Bearer <token>`. */
  readonly auth: boolean;
}

export const apiRoutes = {
  signup: { method: "POST", path: "/api/signup", auth: false },
  login: { method: "POST", path: "/api/login", auth: false },
  /** The bearer token is revoked on every gateway until it would have expired. */
  logout: { method: "POST", path: "/api/logout", auth: true },
  me: { method: "GET", path: "/api/me", auth: true },
  searchUsers: { method: "GET", path: "/api/users", auth: true },
  listConversations: { method: "GET", path: "/api/conversations", auth: true },
  createConversation: { method: "POST", path: "/api/conversations", auth: true },
  history: { method: "GET", path: "/api/conversations/:conversationId/messages", auth: true },
  presence: { method: "GET", path: "/api/presence", auth: true },
} as const satisfies Record<string, RouteSpec>;

export type RouteName = keyof typeof apiRoutes;

export interface RequestSchemas {
  readonly body?: z.ZodType;
  readonly query?: z.ZodType;
}

/**
 * What each route's body and query must be, by route name. Kept apart from apiRoutes so the web client, which
 * takes the table and the types but validates nothing itself, ships without the schemas (web/vite.config.mts
 * lets the bundler drop zod code nothing uses).
 */
export const apiRequestSchemas = {
  signup: { body: signupRequestSchema },
  login: { body: loginRequestSchema },
  logout: {},
  me: {},
  searchUsers: { query: userSearchQuerySchema },
  listConversations: {},
  createConversation: { body: newConversationSchema },
  history: { query: historyQuerySchema },
  presence: { query: presenceQuerySchema },
} as const satisfies Record<RouteName, RequestSchemas>;

/** What signup and login answer: the session the client keeps. */
export interface SessionResponse {
  token: string;
  user: User;
}

export interface LogoutResponse {
  ok: true;
}

export interface HistoryPage {
  /** Ascending by seq: messages in their current state and the conversation's other entries. */
  messages: StoredEntry[];
  hasMore: boolean;
  /**
   * Every member's persisted read position (what "Seen by" shows after a reload): on the latest page and on
   * pages forward (`after`), not on older pages (`before`), whose reader has them from the latest.
   */
  readPositions?: Record<string, number>;
}

/** The success body of each route. */
export interface ApiResponses {
  signup: SessionResponse;
  login: SessionResponse;
  logout: LogoutResponse;
  me: { user: User };
  /** `next`: only on a browse page that is not the last. */
  searchUsers: { users: User[]; next?: string };
  listConversations: { conversations: ConversationSummary[] };
  createConversation: { conversation: ConversationSummary };
  history: HistoryPage;
  presence: { presence: PresenceStatus[] };
}

type SchemaOf<K extends RouteName, F extends "body" | "query"> = (typeof apiRequestSchemas)[K] extends {
  [P in F]: infer S extends z.ZodType;
}
  ? S
  : undefined;

/** What a caller sends as the body / query of route K; `undefined` when the route takes none. */
export type BodyInput<K extends RouteName> =
  SchemaOf<K, "body"> extends z.ZodType ? z.input<SchemaOf<K, "body">> : undefined;
export type QueryInput<K extends RouteName> =
  SchemaOf<K, "query"> extends z.ZodType ? z.input<SchemaOf<K, "query">> : undefined;
/** What a handler of route K receives once its schema has parsed the body / query. */
export type BodyOutput<K extends RouteName> =
  SchemaOf<K, "body"> extends z.ZodType ? z.output<SchemaOf<K, "body">> : undefined;
export type QueryOutput<K extends RouteName> =
  SchemaOf<K, "query"> extends z.ZodType ? z.output<SchemaOf<K, "query">> : undefined;

type ParamsOf<P extends string> = P extends `${string}:${infer Name}/${infer Rest}`
  ? { [N in Name]: string } & ParamsOf<Rest>
  : P extends `${string}:${infer Name}`
    ? { [N in Name]: string }
    : Record<never, never>;
/** The path parameters of route K, decoded. */
export type PathParams<K extends RouteName> = ParamsOf<(typeof apiRoutes)[K]["path"]>;

/** A route's path with its parameters URI-encoded into it. */
export function fillPath(template: string, params: Readonly<Record<string, string>>): string {
  return template
    .split("/")
    .map((segment) => (segment.startsWith(":") ? encodeURIComponent(params[segment.slice(1)] ?? "") : segment))
    .join("/");
}

/**
 * The raw (still URI-encoded) parameters when `pathname` is a path of `template`, else undefined. Decoding is
 * left to the caller, which decides when a malformed encoding is reported.
 */
export function matchPath(template: string, pathname: string): Record<string, string> | undefined {
  const want = template.split("/");
  const got = pathname.split("/");
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (const [i, segment] of want.entries()) {
    const value = got[i]!;
    if (segment.startsWith(":")) {
      if (!value) return undefined;
      params[segment.slice(1)] = value;
    } else if (segment !== value) {
      return undefined;
    }
  }
  return params;
}

/** The `code` of an error response: the status says how bad, the code says what kind of refusal it is. */
export type HttpErrorCode =
  | "VALIDATION"
  | "UNAUTHENTICATED"
  | "NOT_FOUND"
  | "NOT_MEMBER"
  | "CONFLICT"
  | "RATE_LIMITED"
  | "UNAVAILABLE"
  | "INTERNAL";

/** Body of every error response, with the HTTP status. */
export interface HttpErrorBody {
  error: { code: HttpErrorCode; message: string };
}

/**
 * What a response body says went wrong, as far as it has the shape of HttpErrorBody: a proxy's HTML page or a
 * body cut short yields nothing, a field of the wrong type is left out. A code is kept even when this build
 * does not know it (a newer server may send one).
 */
export function errorOfBody(body: unknown): { code?: string; message?: string } {
  if (typeof body !== "object" || body === null) return {};
  const error = (body as { error?: unknown }).error;
  if (typeof error !== "object" || error === null) return {};
  const { code, message } = error as { code?: unknown; message?: unknown };
  return {
    ...(typeof code === "string" ? { code } : {}),
    ...(typeof message === "string" ? { message } : {}),
  };
}
