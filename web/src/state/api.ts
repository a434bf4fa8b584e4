/**
 * The HTTP API (same origin as the page, so relative URLs), called through the route table of
 * runtime/contracts/api.ts: the path, method and whether a token goes along come from there, as do the request
 * and response types and the error body. The token goes in a header, never in a URL.
 */
import {
  apiRoutes,
  errorOfBody,
  fillPath,
  type ApiResponses,
  type BodyInput,
  type ConversationSummary,
  type HistoryPage as ContractHistoryPage,
  type NewConversation,
  type PathParams,
  type PresenceStatus as Presence,
  type QueryInput,
  type RouteName,
  type SessionResponse,
  type User,
} from "../../../runtime/contracts/api";

import type { StoredEntry } from "../../../runtime/contracts/messages";

export type { ConversationSummary, NewConversation, User } from "../../../runtime/contracts/api";
export type { PresenceStatus as Presence } from "../../../runtime/contracts/api";

/**
 * A page of history: entries of every kind (messages in their current state, and the other log entries), and
 * every member's persisted read position. Written so that it reads a server from before the event kinds too
 * (messages only, no read positions).
 */
export type HistoryPage = Omit<ContractHistoryPage, "messages" | "readPositions"> & {
  messages: StoredEntry[];
  readPositions?: Readonly<Record<string, number>>;
};

/** The signed-in user and their token, as signup and login answer it. */
export type Session = SessionResponse;

/** A page of the browse list. */
export type UserPage = ApiResponses["searchUsers"];

export class ApiError extends Error {
  constructor(
    readonly status: number,
    /** The server's HttpErrorCode, or NETWORK (no answer) or HTTP_<status> (an answer without an error body). */
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** Everything the app asks the server over HTTP; an interface so tests can hand in a fake. */
export interface Api {
  signup(input: BodyInput<"signup">): Promise<Session>;
  login(input: BodyInput<"login">): Promise<Session>;
  /** Revokes the current token server-side (every gateway refuses it from then on). */
  logout(): Promise<void>;
  me(): Promise<User>;
  /** Users by username prefix, then by display-name word prefix. */
  searchUsers(prefix: string, limit?: number): Promise<User[]>;
  /** One page of everyone in name order; `next` (absent on the last page) continues it. */
  browseUsers(after?: string, limit?: number): Promise<UserPage>;
  listConversations(): Promise<ConversationSummary[]>;
  createConversation(input: NewConversation): Promise<ConversationSummary>;
  messages(conversationId: string, page: QueryInput<"history">): Promise<HistoryPage>;
  presence(userIds: string[]): Promise<Presence[]>;
}

type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

/** What a call of route K carries: path parameters, query and body, each only where the route has one. */
type CallInput<K extends RouteName> = (keyof PathParams<K> extends never ? unknown : { params: PathParams<K> }) &
  (QueryInput<K> extends undefined ? unknown : { query: QueryInput<K> }) &
  (BodyInput<K> extends undefined ? unknown : { body: BodyInput<K> });

export class HttpApi implements Api {
  constructor(
    private readonly getToken: () => string | undefined,
    private readonly fetchImpl: FetchLike = (input, init) => fetch(input, init),
    private readonly base = "",
  ) {}

  signup(input: BodyInput<"signup">): Promise<Session> {
    return this.call("signup", { body: input });
  }

  login(input: BodyInput<"login">): Promise<Session> {
    return this.call("login", { body: input });
  }

  async logout(): Promise<void> {
    await this.call("logout", {});
  }

  async me(): Promise<User> {
    return (await this.call("me", {})).user;
  }

  async searchUsers(prefix: string, limit = 20): Promise<User[]> {
    return (await this.call("searchUsers", { query: { prefix, limit } })).users;
  }

  async browseUsers(after?: string, limit = 20): Promise<UserPage> {
    return this.call("searchUsers", { query: { limit, ...(after === undefined ? {} : { after }) } });
  }

  async listConversations(): Promise<ConversationSummary[]> {
    return (await this.call("listConversations", {})).conversations;
  }

  async createConversation(input: NewConversation): Promise<ConversationSummary> {
    return (await this.call("createConversation", { body: input })).conversation;
  }

  async messages(conversationId: string, page: QueryInput<"history">): Promise<HistoryPage> {
    return (await this.call("history", { params: { conversationId }, query: page })) as HistoryPage;
  }

  async presence(userIds: string[]): Promise<Presence[]> {
    if (userIds.length === 0) return [];
    return (await this.call("presence", { query: { userIds: userIds.join(",") } })).presence;
  }

  private async call<K extends RouteName>(name: K, input: CallInput<K>): Promise<ApiResponses[K]> {
    const route = apiRoutes[name];
    const { params, query, body } = input as { params?: Record<string, string>; query?: object; body?: unknown };
    const headers: Record<string, string> = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (route.auth) {
      const token = this.getToken();
      if (token) headers.Authorization = `Bearer ${token}`;
    }
    const q = new URLSearchParams();
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined) q.set(key, String(value));
    }
    const qs = q.toString();
    let res: Response;
    try {
      res = await this.fetchImpl(this.base + fillPath(route.path, params ?? {}) + (qs ? `?${qs}` : ""), {
        method: route.method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, "NETWORK", "Cannot reach the server. Check your connection.");
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const err = errorOfBody(json);
      throw new ApiError(res.status, err.code ?? `HTTP_${res.status}`, err.message ?? `Request failed (${res.status})`);
    }
    return json as ApiResponses[K];
  }
}

const SESSION_KEY = "parley.session";

/**
 * The session lives in memory and in sessionStorage: it survives a reload of this tab, is not shared with other
 * tabs (two users side by side work), and disappears when the tab closes.
 */
export function loadSession(storage: Storage | undefined = globalThis.sessionStorage): Session | null {
  try {
    const raw = storage?.getItem(SESSION_KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as Partial<Session>;
    if (typeof s.token === "string" && s.user && typeof s.user.userId === "string") {
      return { token: s.token, user: { userId: s.user.userId, displayName: s.user.displayName ?? s.user.userId } };
    }
  } catch {
    // Corrupt or unavailable storage: start logged out.
  }
  return null;
}

export function saveSession(session: Session, storage: Storage | undefined = globalThis.sessionStorage): void {
  try {
    storage?.setItem(SESSION_KEY, JSON.stringify(session));
  } catch {
    // Storage full or disabled: the session still works in memory for this page.
  }
}

export function clearSession(storage: Storage | undefined = globalThis.sessionStorage): void {
  try {
    storage?.removeItem(SESSION_KEY);
  } catch {
    // Nothing to clear.
  }
}
