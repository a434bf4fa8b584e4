import type { ClientFrame, ServerFrame } from "../../runtime/contracts/frames";
import type {
  Api,
  ConversationSummary,
  HistoryPage,
  NewConversation,
  Presence,
  Session,
  User,
  UserPage,
} from "../../web/src/state/api";
import { ApiError } from "../../web/src/state/api";
import { ChatClient, type ChatClientOptions } from "../../web/src/state/chatClient";
import type { SocketLike } from "../../web/src/state/socket";
import type { ConnectionSnapshot } from "../../web/src/state/connection";
import type { StoredEntry, StoredMessage } from "../../web/src/state/messageList";
import { ChatStore, initialChatState, type ChatState } from "../../web/src/state/store";

/** A WebSocket stand-in the test drives: open, receive, close — like the browser, close() is not echoed at once. */
export class FakeSocket implements SocketLike {
  readyState = 0;
  readonly sent: Record<string, unknown>[] = [];
  closedByClient?: { code?: number; reason?: string };
  onopen: ((ev: Event) => unknown) | null = null;
  onmessage: ((ev: MessageEvent) => unknown) | null = null;
  onclose: ((ev: CloseEvent) => unknown) | null = null;
  onerror: ((ev: Event) => unknown) | null = null;

  send(data: string): void {
    if (this.readyState !== 1) throw new Error("not open");
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }

  close(code?: number, reason?: string): void {
    this.readyState = 3;
    this.closedByClient = { code, reason };
  }

  open(): void {
    this.readyState = 1;
    this.onopen?.({} as Event);
  }

  receive(frame: ServerFrame): void {
    this.onmessage?.({ data: JSON.stringify(frame) } as MessageEvent);
  }

  serverClose(code: number): void {
    this.readyState = 3;
    this.onclose?.({ code } as CloseEvent);
  }

  sentOfType(type: string): Record<string, unknown>[] {
    return this.sent.filter((f) => f.type === type);
  }
}

export function readyFrame(heartbeatMs = 20_000): ServerFrame {
  return { type: "ready", connectionId: "conn-1", userId: "alice", gatewayId: "gw-1", heartbeatMs };
}

export const CID = "d:alice:bob";
export const session: Session = { token: "t0k", user: { userId: "alice", displayName: "Alice" } };

/** A summary as the server answers it: `unread` is lastSeq − lastReadSeq unless given. */
export function summary(over: Partial<ConversationSummary> = {}): ConversationSummary {
  const lastSeq = over.lastSeq ?? 2;
  const lastReadSeq = over.lastReadSeq ?? 2;
  return {
    conversationId: CID,
    kind: "direct",
    memberIds: ["alice", "bob"],
    createdBy: "alice",
    lastSeq,
    lastReadSeq,
    unread: Math.max(0, lastSeq - lastReadSeq),
    createdAt: 1,
    lastMessageAt: 100,
    lastPreview: "old",
    lastSenderId: "bob",
    ...over,
  };
}

export function msg(seq: number, senderId = "bob", clientMessageId = `c${seq}`, conversationId = CID): StoredMessage {
  return { conversationId, seq, senderId, clientMessageId, body: `m${seq}`, sentAt: 1000 + seq, storedAt: 1000 + seq };
}

/** The HTTP API over in-memory lists, recording each call. */
export class FakeApi implements Api {
  conversations: ConversationSummary[] = [summary()];
  history: StoredEntry[] = [msg(1), msg(2)];
  /** What history pages say every member has read; undefined: a server from before persisted receipts. */
  readPositions?: Record<string, number>;
  readonly calls: string[] = [];
  meStatus = 200;
  signup(): Promise<Session> {
    throw new Error("unused");
  }
  login(): Promise<Session> {
    throw new Error("unused");
  }
  async logout(): Promise<void> {
    this.calls.push("logout");
  }
  async me(): Promise<User> {
    this.calls.push("me");
    if (this.meStatus === 401) throw new ApiError(401, "UNAUTHENTICATED", "expired");
    return session.user;
  }
  async searchUsers(prefix: string): Promise<User[]> {
    this.calls.push(`users:${prefix}`);
    return [{ userId: "bob", displayName: "Bob" }].filter((u) => u.userId.startsWith(prefix));
  }
  async browseUsers(after?: string): Promise<UserPage> {
    this.calls.push(`browse:${after ?? ""}`);
    return { users: [{ userId: "bob", displayName: "Bob" }] };
  }
  async listConversations(): Promise<ConversationSummary[]> {
    this.calls.push("conversations");
    return this.conversations.map((c) => ({ ...c }));
  }
  async createConversation(input: NewConversation): Promise<ConversationSummary> {
    this.calls.push(`create:${input.kind}`);
    return summary({ lastSeq: 0, lastReadSeq: 0, lastPreview: undefined, lastMessageAt: undefined });
  }
  async messages(
    conversationId: string,
    page: { before?: number; after?: number; limit?: number },
  ): Promise<HistoryPage> {
    this.calls.push(`messages:${conversationId}:${page.before ?? ""}:${page.after ?? ""}`);
    let list = this.history.filter((m) => m.conversationId === conversationId);
    if (page.before !== undefined) list = list.filter((m) => m.seq < page.before!);
    if (page.after !== undefined) list = list.filter((m) => m.seq > page.after!);
    const limit = page.limit ?? 50;
    const slice = page.after !== undefined ? list.slice(0, limit) : list.slice(-limit);
    const readPositions = this.readPositions ? { readPositions: { ...this.readPositions } } : {};
    return { messages: slice, hasMore: list.length > slice.length, ...readPositions };
  }
  async presence(userIds: string[]): Promise<Presence[]> {
    this.calls.push("presence");
    return userIds.map((userId) => ({ userId, online: true, lastSeen: 5 }));
  }
}

/** Lets pending promise chains (fake API calls and what follows them) run to the end. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

export const liveConnection: ConnectionSnapshot = { status: "live", attempt: 0, wasLive: true };

/** A store for one state module's tests: Alice's initial state with the given parts. */
export function storeWith(over: Partial<ChatState> = {}): ChatStore {
  return new ChatStore({ ...initialChatState(session.user), ...over });
}

/** The `send` a state module is given: records frames while `open`, refuses them (false) otherwise. */
export class FakeSender {
  open = true;
  readonly frames: ClientFrame[] = [];
  readonly send = (frame: ClientFrame): boolean => {
    if (!this.open) return false;
    this.frames.push(frame);
    return true;
  };
  ofType<T extends ClientFrame["type"]>(type: T): Extract<ClientFrame, { type: T }>[] {
    return this.frames.filter((f): f is Extract<ClientFrame, { type: T }> => f.type === type);
  }
}

/**
 * A ChatClient on `api` whose sockets are FakeSockets (the newest is `ws()`), with ids cm1, cm2 … and no jitter;
 * `goLive` opens the newest socket through `ready` to `synced`. `options` replace the defaults.
 */
export function fakeClient(api: FakeApi, options: Partial<ChatClientOptions> = {}) {
  const sockets: FakeSocket[] = [];
  let n = 0;
  const client = new ChatClient({
    session,
    api,
    createSocket: () => {
      const s = new FakeSocket();
      sockets.push(s);
      return s;
    },
    onUnauthorized: () => undefined,
    newId: () => `cm${++n}`,
    random: () => 0,
    isVisible: () => true,
    ...options,
  });
  const ws = () => sockets[sockets.length - 1]!;
  const goLive = () => {
    ws().open();
    ws().receive(readyFrame());
    ws().receive({ type: "synced", cursors: [] });
  };
  return { client, sockets, ws, goLive };
}

/** The ChatClient methods ConversationView calls, as mocks; `searchUsers` answers `found`. */
export function fakeViewClient(found: User[] = []) {
  return {
    send: jest.fn(),
    retry: jest.fn(),
    notifyTyping: jest.fn(),
    loadOlder: jest.fn(async () => {}),
    openConversation: jest.fn(),
    edit: jest.fn(),
    deleteMessage: jest.fn(),
    react: jest.fn(),
    addMembers: jest.fn(),
    removeMember: jest.fn(),
    leave: jest.fn(),
    rename: jest.fn(),
    searchUsers: jest.fn(async () => found),
    dismissNotice: jest.fn(),
  };
}
