/** The HTTP API (same origin as the page, so relative URLs). The token goes in a header, never in a URL. */
import type {
  ConversationSummary,
  LogoutResponse,
  NewConversation,
  PresenceStatus as Presence,
  User,
} from "../../../runtime/contracts/api";
import type { StoredMessage } from "./messageList";

export type { ConversationSummary, NewConversation, User } from "../../../runtime/contracts/api";
export type { PresenceStatus as Presence } from "../../../runtime/contracts/api";

export interface Session {
  token: string;
  user: User;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** Everything the app asks the server over HTTP; an interface so tests can hand in a fake. */
export interface Api {
  signup(input: { username: string; password: string; displayName?: string }): Promise<Session>;
  login(input: { username: string; password: string }): Promise<Session>;
  /** Revokes the current token server-side (every gateway refuses it from then on). */
  logout(): Promise<void>;
  me(): Promise<User>;
  searchUsers(prefix: string, limit?: number): Promise<User[]>;
  listConversations(): Promise<ConversationSummary[]>;
  createConversation(input: NewConversation): Promise<ConversationSummary>;
  messages(
    conversationId: string,
    page: { before?: number; after?: number; limit?: number },
  ): Promise<{ messages: StoredMessage[]; hasMore: boolean }>;
  presence(userIds: string[]): Promise<Presence[]>;
}

type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export class HttpApi implements Api {
  constructor(
    private readonly getToken: () => string | undefined,
    private readonly fetchImpl: FetchLike = (input, init) => fetch(input, init),
    private readonly base = "",
  ) {}

  signup(input: { username: string; password: string; displayName?: string }): Promise<Session> {
    return this.request<Session>("POST", "/api/signup", input, false);
  }

  login(input: { username: string; password: string }): Promise<Session> {
    return this.request<Session>("POST", "/api/login", input, false);
  }

  async logout(): Promise<void> {
    await this.request<LogoutResponse>("POST", "/api/logout");
  }

  async me(): Promise<User> {
    return (await this.request<{ user: User }>("GET", "/api/me")).user;
  }

  async searchUsers(prefix: string, limit = 20): Promise<User[]> {
    const q = new URLSearchParams({ prefix, limit: String(limit) });
    return (await this.request<{ users: User[] }>("GET", `/api/users?${q}`)).users;
  }

  async listConversations(): Promise<ConversationSummary[]> {
    return (await this.request<{ conversations: ConversationSummary[] }>("GET", "/api/conversations")).conversations;
  }

  async createConversation(input: NewConversation): Promise<ConversationSummary> {
    return (await this.request<{ conversation: ConversationSummary }>("POST", "/api/conversations", input))
      .conversation;
  }

  messages(
    conversationId: string,
    page: { before?: number; after?: number; limit?: number },
  ): Promise<{ messages: StoredMessage[]; hasMore: boolean }> {
    const q = new URLSearchParams();
    if (page.before !== undefined) q.set("before", String(page.before));
    if (page.after !== undefined) q.set("after", String(page.after));
    if (page.limit !== undefined) q.set("limit", String(page.limit));
    const qs = q.toString();
    return this.request(
      "GET",
      `/api/conversations/${encodeURIComponent(conversationId)}/messages${qs ? `?${qs}` : ""}`,
    );
  }

  async presence(userIds: string[]): Promise<Presence[]> {
    if (userIds.length === 0) return [];
    const q = new URLSearchParams({ userIds: userIds.join(",") });
    return (await this.request<{ presence: Presence[] }>("GET", `/api/presence?${q}`)).presence;
  }

  private async request<T>(method: string, path: string, body?: unknown, auth = true): Promise<T> {
    const headers: Record<string, string> = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (auth) {
      const token = this.getToken();
      if (token) headers.Authorization = `Bearer ${token}`;
    }
    let res: Response;
    try {
      res = await this.fetchImpl(this.base + path, {
        method,
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
      const err = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new ApiError(
        res.status,
        err?.code ?? `HTTP_${res.status}`,
        err?.message ?? `Request failed (${res.status})`,
      );
    }
    return json as T;
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
