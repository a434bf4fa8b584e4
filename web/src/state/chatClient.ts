/**
 * The app's state and everything that changes it: HTTP calls, WebSocket frames, timers. React only reads
 * snapshots (useSyncExternalStore) and calls the methods. No React in here, so tests drive it directly with a
 * fake API and a fake socket.
 */
import { previewOf } from "../../../runtime/contracts/api";
import type { ClientFrame, ServerFrame } from "../../../runtime/contracts/frames";
import {
  ApiError,
  type Api,
  type ConversationSummary,
  type NewConversation,
  type Presence,
  type Session,
  type User,
} from "./api";
import {
  Connection,
  type ConnectionSnapshot,
  type Cursor,
  type SocketLike,
  type Timers,
  defaultTimers,
} from "./connection";
import {
  addPending,
  emptyMessageList,
  firstSeqOf,
  lastSeqOf,
  markAccepted,
  markFailed,
  markRetrying,
  mergeHistoryPage,
  mergeStored,
  type MessageList,
  type StoredMessage,
} from "./messageList";
import { TYPING_SHOW_MS, TypingThrottle, type TypingMap } from "./typing";
import { applyReceipt, readToSend } from "./unread";

export interface ChatState {
  me: User;
  connection: ConnectionSnapshot;
  conversations: Readonly<Record<string, ConversationSummary>>;
  conversationsLoaded: boolean;
  messages: Readonly<Record<string, MessageList>>;
  loadingOlder: Readonly<Record<string, boolean>>;
  /** conversationId → userId → show "typing" until (epoch ms). */
  typing: Readonly<Record<string, TypingMap>>;
  /** conversationId → userId → highest seq that user has read. */
  receipts: Readonly<Record<string, Readonly<Record<string, number>>>>;
  presence: Readonly<Record<string, Presence>>;
  /** userId → display name, filled lazily. */
  names: Readonly<Record<string, string>>;
  openConversationId: string | null;
  /** Last HTTP failure worth showing (cleared by the next success). */
  notice?: string;
}

export interface ChatClientOptions {
  session: Session;
  api: Api;
  createSocket: () => SocketLike;
  /** The session is no longer valid: the app should show the login screen. */
  onUnauthorized: () => void;
  timers?: Timers;
  now?: () => number;
  random?: () => number;
  newId?: () => string;
  isVisible?: () => boolean;
  /** How long a send may wait for `accepted` while connected before it shows as failed. */
  acceptTimeoutMs?: number;
  pageSize?: number;
}

const TYPING_ARRIVAL_MARGIN_MS = 250;
/** Presence frames are pushed, but a missed one would leave a dot wrong forever; re-read it now and then. */
const PRESENCE_REFRESH_MS = 30_000;

/** 128 random bits, URL-safe; crypto.randomUUID is missing on plain-http origins other than localhost. */
export function newClientMessageId(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Newest activity first; a chat without messages sorts by when it was created. */
export function sortConversations(all: Iterable<ConversationSummary>): ConversationSummary[] {
  return [...all].sort(
    (a, b) =>
      (b.lastMessageAt ?? b.createdAt) - (a.lastMessageAt ?? a.createdAt) ||
      a.conversationId.localeCompare(b.conversationId),
  );
}

/** Keeps whichever side knows more: seqs only grow, so the larger one is the newer truth. */
export function mergeSummary(local: ConversationSummary | undefined, remote: ConversationSummary): ConversationSummary {
  if (!local) return remote;
  const remoteNewer = remote.lastSeq >= local.lastSeq;
  const newest = remoteNewer ? remote : local;
  return {
    ...remote,
    lastSeq: newest.lastSeq,
    lastMessageAt: newest.lastMessageAt,
    lastPreview: newest.lastPreview,
    lastSenderId: newest.lastSenderId,
    lastReadSeq: Math.max(local.lastReadSeq, remote.lastReadSeq),
  };
}

export class ChatClient {
  private state: ChatState;
  private readonly listeners = new Set<() => void>();
  private readonly connection: Connection;
  private readonly api: Api;
  private readonly timers: Timers;
  private readonly now: () => number;
  private readonly newId: () => string;
  private readonly isVisible: () => boolean;
  private readonly acceptTimeoutMs: number;
  private readonly pageSize: number;
  private readonly typingThrottle = new TypingThrottle();
  private readonly typingTrailing = new Map<string, unknown>();
  private readonly acceptTimers = new Map<string, unknown>();
  /** Highest seq acknowledged to the server per conversation, so a `read` is sent once per change. */
  private readonly readSent = new Map<string, number>();
  private readonly gapFills = new Set<string>();
  private readonly nameLookups = new Set<string>();
  /** Conversations covered by a `sync` on the current connection. */
  private syncedIds = new Set<string>();
  private refreshing: Promise<void> | null = null;
  private refreshAgain = false;
  private typingTimer: unknown = null;
  private presenceTimer: unknown = null;
  private stopped = false;

  constructor(private readonly options: ChatClientOptions) {
    this.api = options.api;
    this.timers = options.timers ?? defaultTimers;
    this.now = options.now ?? Date.now;
    this.newId = options.newId ?? newClientMessageId;
    this.isVisible = options.isVisible ?? (() => globalThis.document?.visibilityState !== "hidden");
    this.acceptTimeoutMs = options.acceptTimeoutMs ?? 10_000;
    this.pageSize = options.pageSize ?? 50;
    const me = options.session.user;
    this.state = {
      me,
      connection: { status: "idle", attempt: 0, wasLive: false },
      conversations: {},
      conversationsLoaded: false,
      messages: {},
      loadingOlder: {},
      typing: {},
      receipts: {},
      presence: {},
      names: { [me.userId]: me.displayName },
      openConversationId: null,
    };
    this.connection = new Connection({
      createSocket: options.createSocket,
      getCursors: () => {
        const cursors = this.cursors();
        this.syncedIds = new Set(cursors.map((c) => c.conversationId));
        return cursors;
      },
      onFrame: (f) => this.onFrame(f),
      onSnapshot: (s) => this.onConnection(s),
      onHandshakeFailed: () => void this.checkSession(),
      timers: this.timers,
      now: this.now,
      random: options.random,
    });
  }

  // ---- React glue -------------------------------------------------------------------------------------------

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getState = (): ChatState => this.state;

  private update(change: (s: ChatState) => ChatState): void {
    const next = change(this.state);
    if (next === this.state) return;
    this.state = next;
    for (const l of this.listeners) l();
  }

  // ---- lifecycle ----------------------------------------------------------------------------------------------

  start(): void {
    this.connection.start();
    void this.refreshConversations();
    this.presenceTimer = this.timers.setInterval(() => {
      if (this.state.connection.status === "live" && this.isVisible()) void this.loadPresence();
    }, PRESENCE_REFRESH_MS);
  }

  /**
   * Logging out: stops the client and asks the server to revoke the token. Best effort — if the request does not
   * get through, the token still expires on its own, and the tab has forgotten it either way.
   */
  logout(): Promise<void> {
    this.stop();
    return this.api.logout().catch(() => undefined);
  }

  stop(): void {
    this.stopped = true;
    this.connection.stop();
    for (const t of this.acceptTimers.values()) this.timers.clearTimeout(t);
    this.acceptTimers.clear();
    if (this.typingTimer !== null) this.timers.clearTimeout(this.typingTimer);
    if (this.presenceTimer !== null) this.timers.clearInterval(this.presenceTimer);
    for (const t of this.typingTrailing.values()) this.timers.clearTimeout(t);
    this.typingTrailing.clear();
  }

  browserOffline(): void {
    this.connection.goOffline();
  }

  browserOnline(): void {
    this.connection.reconnectNow();
  }

  retryConnection(): void {
    this.connection.reconnectNow();
  }

  visibilityChanged(): void {
    this.markOpenRead();
  }

  // ---- conversations ------------------------------------------------------------------------------------------

  /** Single-flight: callers during a fetch get one more fetch after it, never a pile of parallel ones. */
  refreshConversations(): Promise<void> {
    if (this.refreshing) {
      this.refreshAgain = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      do {
        this.refreshAgain = false;
        try {
          const list = await this.api.listConversations();
          this.update((s) => {
            const conversations: Record<string, ConversationSummary> = { ...s.conversations };
            for (const c of list) conversations[c.conversationId] = mergeSummary(conversations[c.conversationId], c);
            return { ...s, conversations, conversationsLoaded: true, notice: undefined };
          });
          this.syncUncovered();
          void this.loadPresence();
          this.resolveNames(list.flatMap((c) => c.memberIds));
          this.markOpenRead();
        } catch (err) {
          this.onApiError(err);
        }
      } while (this.refreshAgain && !this.stopped);
    })().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  async createConversation(input: NewConversation): Promise<string | undefined> {
    try {
      const c = await this.api.createConversation(input);
      this.update((s) => ({
        ...s,
        conversations: { ...s.conversations, [c.conversationId]: mergeSummary(s.conversations[c.conversationId], c) },
        notice: undefined,
      }));
      this.resolveNames(c.memberIds);
      this.syncUncovered();
      void this.loadPresence();
      this.openConversation(c.conversationId);
      return c.conversationId;
    } catch (err) {
      this.onApiError(err);
      throw err;
    }
  }

  async searchUsers(prefix: string): Promise<User[]> {
    const users = await this.api.searchUsers(prefix.toLowerCase(), 20);
    this.rememberNames(users);
    return users;
  }

  openConversation(conversationId: string | null): void {
    this.update((s) => (s.openConversationId === conversationId ? s : { ...s, openConversationId: conversationId }));
    if (conversationId === null) return;
    const list = this.state.messages[conversationId];
    if (!list?.historyLoaded) void this.loadLatest(conversationId);
    this.markOpenRead();
  }

  private applyHistoryPage(conversationId: string, page: { messages: StoredMessage[]; hasMore: boolean }): void {
    const me = this.state.me.userId;
    this.update((s) => ({
      ...s,
      messages: {
        ...s.messages,
        [conversationId]: mergeHistoryPage(
          s.messages[conversationId] ?? emptyMessageList,
          page.messages,
          page.hasMore,
          me,
        ),
      },
    }));
  }

  private async loadLatest(conversationId: string): Promise<void> {
    try {
      const page = await this.api.messages(conversationId, { limit: this.pageSize });
      this.applyHistoryPage(conversationId, page);
      this.noteMessages(conversationId, page.messages);
    } catch (err) {
      this.onApiError(err);
    }
  }

  /** Infinite scroll upward: one page before the oldest message shown. */
  async loadOlder(conversationId: string): Promise<void> {
    const list = this.state.messages[conversationId];
    const before = list && firstSeqOf(list);
    if (!list?.hasMoreBefore || before === undefined || this.state.loadingOlder[conversationId]) return;
    this.setLoadingOlder(conversationId, true);
    try {
      const page = await this.api.messages(conversationId, { before, limit: this.pageSize });
      this.applyHistoryPage(conversationId, page);
    } catch (err) {
      this.onApiError(err);
    } finally {
      this.setLoadingOlder(conversationId, false);
    }
  }

  private setLoadingOlder(conversationId: string, value: boolean): void {
    this.update((s) => ({ ...s, loadingOlder: { ...s.loadingOlder, [conversationId]: value } }));
  }

  // ---- sending ------------------------------------------------------------------------------------------------

  /** Optimistic: shows as pending at once; goes out now if connected, or when the connection is live again. */
  send(conversationId: string, body: string): string | undefined {
    if (body.trim().length === 0) return undefined;
    const clientMessageId = this.newId();
    this.updateList(conversationId, (l) => addPending(l, { clientMessageId, body, now: this.now() }));
    this.notifyTyping(conversationId, false);
    this.transmit(conversationId, clientMessageId);
    return clientMessageId;
  }

  /** Resends with the SAME clientMessageId: the server stores it at most once however many attempts reach it. */
  retry(conversationId: string, clientMessageId: string): void {
    this.updateList(conversationId, (l) => markRetrying(l, clientMessageId));
    this.transmit(conversationId, clientMessageId);
  }

  /** Called on every keystroke (`active`), and with false when the draft is sent or emptied. */
  notifyTyping(conversationId: string, active = true): void {
    const trailing = this.typingTrailing.get(conversationId);
    if (trailing !== undefined) this.timers.clearTimeout(trailing);
    this.typingTrailing.delete(conversationId);
    if (!active) return;
    const now = this.now();
    if (this.typingThrottle.shouldSend(conversationId, now)) {
      this.connection.send({ type: "typing", conversationId });
      return;
    }
    // Margin: the gateway measures the interval on arrival, and frames do not arrive evenly spaced.
    const wait = this.typingThrottle.waitMs(conversationId, now) + TYPING_ARRIVAL_MARGIN_MS;
    this.typingTrailing.set(
      conversationId,
      this.timers.setTimeout(() => {
        this.typingTrailing.delete(conversationId);
        if (this.typingThrottle.shouldSend(conversationId, this.now())) {
          this.connection.send({ type: "typing", conversationId });
        }
      }, wait),
    );
  }

  private transmit(conversationId: string, clientMessageId: string): void {
    const p = this.state.messages[conversationId]?.pending.find((x) => x.clientMessageId === clientMessageId);
    if (!p || p.status !== "pending") return;
    const frame: ClientFrame = { type: "send", conversationId, clientMessageId, body: p.body };
    if (!this.connection.send(frame)) return; // stays pending; flushPending() sends it once live
    const key = `${conversationId}|${clientMessageId}`;
    const old = this.acceptTimers.get(key);
    if (old !== undefined) this.timers.clearTimeout(old);
    this.acceptTimers.set(
      key,
      this.timers.setTimeout(() => {
        this.acceptTimers.delete(key);
        // Only while connected: after a drop the send is retried automatically on reconnect instead.
        if (this.state.connection.status === "live" || this.state.connection.status === "syncing") {
          this.updateList(conversationId, (l) => markFailed(l, clientMessageId, "No answer from the server"));
        }
      }, this.acceptTimeoutMs),
    );
  }

  private flushPending(): void {
    for (const [conversationId, list] of Object.entries(this.state.messages)) {
      for (const p of list.pending) if (p.status === "pending") this.transmit(conversationId, p.clientMessageId);
    }
  }

  private clearAcceptTimer(conversationId: string, clientMessageId: string): void {
    const key = `${conversationId}|${clientMessageId}`;
    const t = this.acceptTimers.get(key);
    if (t !== undefined) this.timers.clearTimeout(t);
    this.acceptTimers.delete(key);
  }

  // ---- frames -------------------------------------------------------------------------------------------------

  private onConnection(snapshot: ConnectionSnapshot): void {
    const wasLive = this.state.connection.status === "live";
    this.update((s) => ({ ...s, connection: snapshot }));
    if (snapshot.status === "unauthorized") {
      this.options.onUnauthorized();
      return;
    }
    if (snapshot.status === "live" && !wasLive) {
      this.flushPending();
      this.readSent.clear(); // a new connection: re-acknowledge what the user has read
      this.markOpenRead();
      if (snapshot.wasLive)
        void this.refreshConversations(); // chats created while we were away
      else void this.loadPresence();
    }
  }

  private onFrame(frame: ServerFrame): void {
    switch (frame.type) {
      case "message": {
        const { type: _type, ...message } = frame;
        this.onMessages(message.conversationId, [message]);
        break;
      }
      case "accepted":
        this.clearAcceptTimer(frame.conversationId, frame.clientMessageId);
        this.updateList(frame.conversationId, (l) => markAccepted(l, frame.clientMessageId));
        break;
      case "synced":
        this.update((s) => {
          let conversations = s.conversations;
          for (const c of frame.cursors) {
            const known = conversations[c.conversationId];
            if (known && c.lastSeq > known.lastSeq) {
              conversations = { ...conversations, [c.conversationId]: { ...known, lastSeq: c.lastSeq } };
            }
          }
          return conversations === s.conversations ? s : { ...s, conversations };
        });
        break;
      case "typing":
        if (frame.userId !== this.state.me.userId) this.onTyping(frame.conversationId, frame.userId);
        break;
      case "read":
        this.onRead(frame.conversationId, frame.userId, frame.seq);
        break;
      case "presence":
        this.update((s) => ({
          ...s,
          presence: {
            ...s.presence,
            [frame.userId]: { userId: frame.userId, online: frame.online, lastSeen: frame.lastSeen },
          },
        }));
        break;
      case "error": {
        const cmid = frame.ref?.clientMessageId;
        const cid = frame.ref?.conversationId;
        if (cmid && cid) {
          this.clearAcceptTimer(cid, cmid);
          this.updateList(cid, (l) => markFailed(l, cmid, frame.message || frame.code));
        }
        break;
      }
      default:
        break;
    }
  }

  private onMessages(conversationId: string, messages: StoredMessage[]): void {
    if (messages.length === 0) return;
    const me = this.state.me.userId;
    const before = this.state.messages[conversationId];
    const beforeLast = before ? lastSeqOf(before) : 0;
    this.updateList(conversationId, (l) => mergeStored(l, messages, me));
    // A message ends its sender's "typing…" — but only a new one: a repeat or a sync page is old news.
    const known = new Set(before?.stored.map((m) => m.seq));
    const senders = new Set(messages.filter((m) => !known.has(m.seq)).map((m) => m.senderId));
    this.noteMessages(conversationId, messages, senders);
    for (const m of messages) this.clearAcceptTimer(conversationId, m.clientMessageId);
    if (!this.state.conversations[conversationId]) {
      void this.refreshConversations(); // a chat we were just added to
    }
    // A hole between what we had and what arrived: fetch it rather than show a gap.
    const first = Math.min(...messages.map((m) => m.seq));
    if (before?.historyLoaded && beforeLast > 0 && first > beforeLast + 1)
      void this.fillGap(conversationId, beforeLast);
    this.markOpenRead();
  }

  /** Updates the chat list (preview, time, unread) from stored messages; clears typing for `stoppedTyping`. */
  private noteMessages(
    conversationId: string,
    messages: readonly StoredMessage[],
    stoppedTyping: ReadonlySet<string> = new Set(),
  ): void {
    if (messages.length === 0) return;
    const me = this.state.me.userId;
    const newest = messages.reduce((a, b) => (b.seq > a.seq ? b : a));
    const ownNewest = messages.filter((m) => m.senderId === me).reduce((a, m) => Math.max(a, m.seq), 0);
    this.update((s) => {
      const known = s.conversations[conversationId];
      let typing = s.typing;
      const t = s.typing[conversationId];
      if (t && [...stoppedTyping].some((u) => t[u] !== undefined)) {
        const nextT = { ...t };
        for (const u of stoppedTyping) delete nextT[u];
        typing = { ...s.typing, [conversationId]: nextT };
      }
      if (!known) return typing === s.typing ? s : { ...s, typing };
      let c = known;
      if (newest.seq > c.lastSeq) {
        c = {
          ...c,
          lastSeq: newest.seq,
          lastMessageAt: newest.sentAt,
          lastPreview: previewOf(newest.body),
          lastSenderId: newest.senderId,
        };
      }
      // Writing a message means having read the conversation up to it.
      if (ownNewest > c.lastReadSeq) c = { ...c, lastReadSeq: ownNewest };
      if (c === known && typing === s.typing) return s;
      return { ...s, typing, conversations: { ...s.conversations, [conversationId]: c } };
    });
  }

  private async fillGap(conversationId: string, afterSeq: number): Promise<void> {
    if (this.gapFills.has(conversationId)) return;
    this.gapFills.add(conversationId);
    try {
      let after = afterSeq;
      for (;;) {
        const page = await this.api.messages(conversationId, { after, limit: 100 });
        this.onMessages(conversationId, page.messages);
        if (!page.hasMore || page.messages.length === 0) break;
        after = Math.max(...page.messages.map((m) => m.seq));
      }
    } catch (err) {
      this.onApiError(err);
    } finally {
      this.gapFills.delete(conversationId);
    }
  }

  private onTyping(conversationId: string, userId: string): void {
    const until = this.now() + TYPING_SHOW_MS;
    this.update((s) => ({
      ...s,
      typing: { ...s.typing, [conversationId]: { ...s.typing[conversationId], [userId]: until } },
    }));
    this.resolveNames([userId]);
    this.scheduleTypingSweep();
  }

  private scheduleTypingSweep(): void {
    if (this.typingTimer === null) this.scheduleTypingSweepAt(TYPING_SHOW_MS);
  }

  private scheduleTypingSweepAt(ms: number): void {
    if (this.typingTimer !== null) this.timers.clearTimeout(this.typingTimer);
    this.typingTimer = this.timers.setTimeout(() => {
      this.typingTimer = null;
      this.sweepTypingNow();
    }, ms + 50);
  }

  private sweepTypingNow(): void {
    const now = this.now();
    let next = Infinity;
    this.update((s) => {
      let changed = false;
      const typing: Record<string, TypingMap> = {};
      for (const [cid, users] of Object.entries(s.typing)) {
        const kept: Record<string, number> = {};
        for (const [uid, until] of Object.entries(users)) {
          if (until > now) {
            kept[uid] = until;
            next = Math.min(next, until);
          } else changed = true;
        }
        typing[cid] = kept;
      }
      return changed ? { ...s, typing } : s;
    });
    if (next !== Infinity) this.scheduleTypingSweepAt(next - now);
  }

  private onRead(conversationId: string, userId: string, seq: number): void {
    if (userId === this.state.me.userId) {
      // Read on another tab or device: the badge here clears too.
      this.update((s) => {
        const c = s.conversations[conversationId];
        if (!c || seq <= c.lastReadSeq) return s;
        return { ...s, conversations: { ...s.conversations, [conversationId]: { ...c, lastReadSeq: seq } } };
      });
      return;
    }
    this.update((s) => {
      const current = s.receipts[conversationId];
      const next = applyReceipt(current, userId, seq);
      return next === current ? s : { ...s, receipts: { ...s.receipts, [conversationId]: next } };
    });
    this.resolveNames([userId]);
  }

  /** The open, visible conversation is read up to its last seq: clear the badge and tell the server once. */
  private markOpenRead(): void {
    const id = this.state.openConversationId;
    if (!id) return;
    const c = this.state.conversations[id];
    if (!c) return;
    const visible = this.isVisible();
    const seq = readToSend(c, true, visible);
    if (seq !== undefined) {
      this.update((s) => {
        const cur = s.conversations[id];
        return cur ? { ...s, conversations: { ...s.conversations, [id]: { ...cur, lastReadSeq: seq } } } : s;
      });
    }
    const target = this.state.conversations[id]?.lastReadSeq ?? 0;
    if (visible && target > 0 && (this.readSent.get(id) ?? 0) < target) {
      if (this.connection.send({ type: "read", conversationId: id, seq: target })) this.readSent.set(id, target);
    }
  }

  // ---- helpers ------------------------------------------------------------------------------------------------

  /**
   * The socket may have synced before the chat list arrived (or before a chat was created): those chats were not
   * in its cursors, so a message stored between the list fetch and the subscription would be missed. Sync them now
   * from the list's lastSeq.
   */
  private syncUncovered(): void {
    const status = this.state.connection.status;
    if (status !== "live" && status !== "syncing") return;
    const cursors = this.cursors().filter((c) => !this.syncedIds.has(c.conversationId));
    if (cursors.length === 0) return;
    if (this.connection.send({ type: "sync", cursors })) for (const c of cursors) this.syncedIds.add(c.conversationId);
  }

  /** The sync cursors: for each chat, the highest seq this client has (messages shown or the list's lastSeq). */
  private cursors(): Cursor[] {
    const ids = new Set([...Object.keys(this.state.conversations), ...Object.keys(this.state.messages)]);
    return [...ids].slice(0, 500).map((conversationId) => {
      const list = this.state.messages[conversationId];
      const summary = this.state.conversations[conversationId];
      return { conversationId, afterSeq: Math.max(list ? lastSeqOf(list) : 0, summary?.lastSeq ?? 0) };
    });
  }

  private updateList(conversationId: string, change: (l: MessageList) => MessageList): void {
    this.update((s) => {
      const current = s.messages[conversationId] ?? emptyMessageList;
      const next = change(current);
      return next === current ? s : { ...s, messages: { ...s.messages, [conversationId]: next } };
    });
  }

  private async loadPresence(): Promise<void> {
    const me = this.state.me.userId;
    const others = new Set<string>();
    for (const c of Object.values(this.state.conversations)) for (const m of c.memberIds) if (m !== me) others.add(m);
    if (others.size === 0) return;
    try {
      const list = await this.api.presence([...others].slice(0, 100));
      this.update((s) => {
        const presence = { ...s.presence };
        for (const p of list) presence[p.userId] = p;
        return { ...s, presence };
      });
    } catch (err) {
      this.onApiError(err, true);
    }
  }

  private rememberNames(users: readonly User[]): void {
    this.update((s) => {
      const fresh = users.filter((u) => s.names[u.userId] !== u.displayName);
      if (fresh.length === 0) return s;
      const names = { ...s.names };
      for (const u of fresh) names[u.userId] = u.displayName;
      return { ...s, names };
    });
  }

  /** There is no users-by-id endpoint: an exact-prefix search finds each unknown member once. */
  private resolveNames(userIds: readonly string[]): void {
    for (const id of new Set(userIds)) {
      if (this.state.names[id] !== undefined || this.nameLookups.has(id)) continue;
      this.nameLookups.add(id);
      this.api
        .searchUsers(id, 5)
        .then((users) => this.rememberNames(users.filter((u) => u.userId === id)))
        .catch(() => this.nameLookups.delete(id));
    }
  }

  /** A socket that never opened: if the token was refused, stop retrying and ask for a new login. */
  private async checkSession(): Promise<void> {
    try {
      await this.api.me();
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) this.connection.markUnauthorized();
    }
  }

  private onApiError(err: unknown, quiet = false): void {
    if (err instanceof ApiError && err.status === 401) {
      this.connection.markUnauthorized();
      return;
    }
    if (quiet || this.stopped) return;
    const message = err instanceof Error ? err.message : "Something went wrong";
    this.update((s) => ({ ...s, notice: message }));
  }
}
