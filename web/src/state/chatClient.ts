/**
 * The app's client: composes the store, the connection and the state modules — outbox, typing, receipts,
 * presence, names, history, sync cursors — each given what it needs in its constructor, and routes each server
 * frame, connection change and HTTP result to the modules it concerns.
 * React only reads snapshots (useSyncExternalStore) and calls the methods. No React in here, so tests drive it
 * directly with a fake API and a fake socket.
 */
import type { ServerFrame } from "../../../runtime/contracts/frames";
import { ApiError, type Api, type NewConversation, type Session, type User, type UserPage } from "./api";
import { applyFullList, applySyncedCursors, mergeSummaries, notePreviewChanges, noteStored } from "./chatList";
import { Connection, type ConnectionSnapshot, type SendFrame } from "./connection";
import { MessageHistory } from "./history";
import { membershipOf, namedIn, summaryAfter } from "./events";
import { mergeStored, noteSeq, type StoredEntry, type StoredMessage, type SystemEvent } from "./messageList";
import { Names } from "./names";
import { notificationFor, type DesktopNotification } from "./notifications";
import { newClientMessageId, Outbox, type ChangeInput } from "./outbox";
import { PresencePoller } from "./presencePoller";
import { ReadReceipts } from "./receipts";
import type { SocketLike } from "./socket";
import { ChatStore, changeList, initialChatState, type ChatState, type StateChange } from "./store";
import { SyncCursors } from "./syncCursors";
import { dividerOnOpen } from "./timeline";
import { defaultTimers, type Timers } from "./timers";
import { clearTypers, TypingIndicators } from "./typingIndicators";

export type { ChatState };

const systemKinds: ReadonlySet<string> = new Set(["add", "remove", "leave", "rename"]);
const isEvent = (e: StoredEntry): boolean => e.kind !== undefined && e.kind !== "message";
const isSystem = (e: StoredEntry): boolean => systemKinds.has(e.kind ?? "message");

export interface ChatClientOptions {
  session: Session;
  api: Api;
  createSocket: () => SocketLike;
  /** The session is no longer valid: the app should show the login screen. */
  onUnauthorized: () => void;
  /** A new message from someone else arrived while the tab was hidden (the shell shows it if permitted). */
  onNotify?: (n: DesktopNotification) => void;
  timers?: Timers;
  now?: () => number;
  random?: () => number;
  newId?: () => string;
  isVisible?: () => boolean;
  /** How long a send may wait for `accepted` while connected before it shows as failed. */
  acceptTimeoutMs?: number;
  pageSize?: number;
}

export class ChatClient {
  private readonly store: ChatStore;
  private readonly connection: Connection;
  private readonly api: Api;
  private readonly names: Names;
  private readonly outbox: Outbox;
  private readonly typing: TypingIndicators;
  private readonly receipts: ReadReceipts;
  private readonly presence: PresencePoller;
  private readonly history: MessageHistory;
  private readonly sync: SyncCursors;
  private readonly isVisible: () => boolean;
  private refreshing: Promise<void> | null = null;
  private refreshAgain = false;
  private stopped = false;

  constructor(private readonly options: ChatClientOptions) {
    const timers = options.timers ?? defaultTimers;
    const now = options.now ?? Date.now;
    const isVisible = options.isVisible ?? (() => globalThis.document?.visibilityState !== "hidden");
    this.isVisible = isVisible;
    const store = new ChatStore(initialChatState(options.session.user));
    const send: SendFrame = (frame) => this.connection.send(frame);
    this.store = store;
    this.api = options.api;
    this.names = new Names({ store, api: options.api });
    this.outbox = new Outbox({
      store,
      send,
      timers,
      now,
      newId: options.newId ?? newClientMessageId,
      acceptTimeoutMs: options.acceptTimeoutMs ?? 10_000,
    });
    this.typing = new TypingIndicators({ store, send, names: this.names, timers, now });
    this.receipts = new ReadReceipts({ store, send, names: this.names, isVisible });
    this.presence = new PresencePoller({
      store,
      api: options.api,
      timers,
      isVisible,
      onError: (err) => this.onApiError(err, true),
    });
    this.history = new MessageHistory({
      store,
      api: options.api,
      pageSize: options.pageSize ?? 50,
      onGapPage: (conversationId, messages) => this.onEntries(conversationId, messages),
      onReadPositions: (conversationId, positions) => this.receipts.seed(conversationId, positions),
      onError: (err) => this.onApiError(err),
    });
    this.sync = new SyncCursors({ store, send });
    this.connection = new Connection({
      createSocket: options.createSocket,
      getCursors: () => this.sync.forNewConnection(),
      onFrame: (f) => this.onFrame(f),
      onSnapshot: (s) => this.onConnection(s),
      onHandshakeFailed: () => void this.checkSession(),
      timers,
      now,
      random: options.random,
    });
  }

  // ---- React glue -------------------------------------------------------------------------------------------

  subscribe = (listener: () => void): (() => void) => this.store.subscribe(listener);

  getState = (): ChatState => this.store.getState();

  // ---- lifecycle ----------------------------------------------------------------------------------------------

  start(): void {
    this.connection.start();
    void this.refreshConversations();
    this.presence.start();
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
    this.outbox.stop();
    this.typing.stop();
    this.presence.stop();
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
    this.receipts.markOpenRead();
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
          const knownBefore = new Set(Object.keys(this.store.getState().conversations));
          const list = await this.api.listConversations();
          this.store.update((s) => ({
            ...applyFullList(list, knownBefore)(s),
            conversationsLoaded: true,
            notice: undefined,
          }));
          this.sync.syncUncovered();
          void this.presence.load();
          this.names.resolve(list.flatMap((c) => c.memberIds));
          this.placeDivider();
          this.receipts.markOpenRead();
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
      this.store.update((s) => ({ ...mergeSummaries([c])(s), notice: undefined }));
      this.names.resolve(c.memberIds);
      this.sync.syncUncovered();
      void this.presence.load();
      this.openConversation(c.conversationId);
      return c.conversationId;
    } catch (err) {
      this.onApiError(err);
      throw err;
    }
  }

  async searchUsers(prefix: string): Promise<User[]> {
    const users = await this.api.searchUsers(prefix, 20);
    this.names.remember(users);
    return users;
  }

  async browseUsers(after?: string): Promise<UserPage> {
    const page = await this.api.browseUsers(after, 20);
    this.names.remember(page.users);
    return page;
  }

  openConversation(conversationId: string | null): void {
    this.store.update((s) =>
      s.openConversationId === conversationId
        ? s
        : { ...s, openConversationId: conversationId, unreadDivider: undefined },
    );
    if (conversationId === null) return;
    this.history.loadLatestOnce(conversationId);
    this.placeDivider();
    this.receipts.markOpenRead();
  }

  /** Fixes the open chat's "new messages" divider before it is marked read (once its summary is known). */
  private placeDivider(): void {
    this.store.update((s) => {
      const id = s.openConversationId;
      const c = id ? s.conversations[id] : undefined;
      if (!id || !c || s.unreadDivider?.conversationId === id) return s;
      return { ...s, unreadDivider: { conversationId: id, afterSeq: dividerOnOpen(c) } };
    });
  }

  /** Infinite scroll upward: one page before the oldest message shown. */
  loadOlder(conversationId: string): Promise<void> {
    return this.history.loadOlder(conversationId);
  }

  // ---- sending ------------------------------------------------------------------------------------------------

  /** Optimistic: shows as pending at once; goes out now if connected, or when the connection is live again. */
  send(conversationId: string, body: string, replyTo?: number): string | undefined {
    if (body.trim().length === 0 || this.isDeparted(conversationId)) return undefined;
    this.typing.notify(conversationId, false);
    return this.outbox.add(conversationId, body, replyTo);
  }

  /** Replaces the body of one of the user's messages (shown at once; the server checks the edit window). */
  edit(conversationId: string, seq: number, body: string): string | undefined {
    if (body.trim().length === 0) return undefined;
    return this.change({ type: "edit", conversationId, seq, body });
  }

  deleteMessage(conversationId: string, seq: number): string | undefined {
    return this.change({ type: "delete", conversationId, seq });
  }

  /** Turns the user's `emoji` on a message on or off (explicit, so a resend changes nothing). */
  react(conversationId: string, seq: number, emoji: string, on: boolean): string | undefined {
    return this.change({ type: "react", conversationId, seq, emoji, on });
  }

  addMembers(conversationId: string, userIds: string[]): string | undefined {
    if (userIds.length === 0) return undefined;
    return this.change({ type: "addMembers", conversationId, userIds });
  }

  removeMember(conversationId: string, userId: string): string | undefined {
    return this.change({ type: "removeMember", conversationId, userId });
  }

  leave(conversationId: string): string | undefined {
    return this.change({ type: "leave", conversationId });
  }

  rename(conversationId: string, title: string): string | undefined {
    if (title.trim().length === 0) return undefined;
    return this.change({ type: "rename", conversationId, title: title.trim() });
  }

  /** Hides the refused change's notice. */
  dismissNotice(): void {
    this.store.update((s) => (s.actionNotice ? { ...s, actionNotice: undefined } : s));
  }

  private change(frame: ChangeInput): string | undefined {
    if (this.isDeparted(frame.conversationId)) return undefined;
    this.dismissNotice();
    return this.outbox.change(frame);
  }

  private isDeparted(conversationId: string): boolean {
    return this.store.getState().departed[conversationId] !== undefined;
  }

  /** Resends with the SAME clientMessageId: the server stores it at most once however many attempts reach it. */
  retry(conversationId: string, clientMessageId: string): void {
    this.outbox.retry(conversationId, clientMessageId);
  }

  /** Called on every keystroke (`active`), and with false when the draft is sent or emptied. */
  notifyTyping(conversationId: string, active = true): void {
    this.typing.notify(conversationId, active);
  }

  // ---- routing ------------------------------------------------------------------------------------------------

  private onConnection(snapshot: ConnectionSnapshot): void {
    const wasLive = this.store.getState().connection.status === "live";
    this.store.update((s) => ({ ...s, connection: snapshot }));
    if (snapshot.status === "unauthorized") {
      this.options.onUnauthorized();
      return;
    }
    if (snapshot.status === "live" && !wasLive) {
      this.outbox.flush();
      this.receipts.reconnected();
      this.receipts.markOpenRead();
      if (snapshot.wasLive)
        void this.refreshConversations(); // chats created while we were away
      else void this.presence.load();
    }
  }

  private onFrame(frame: ServerFrame): void {
    switch (frame.type) {
      case "message": {
        const { type: _type, ...message } = frame;
        this.onEntries(message.conversationId, [message]);
        break;
      }
      case "event": {
        const { type: _type, ...event } = frame;
        this.onEntries(event.conversationId, [event]);
        break;
      }
      case "conversation":
        void this.refreshConversations(); // a chat the user was just made a member of
        break;
      case "accepted":
        this.outbox.accepted(frame.conversationId, frame.clientMessageId);
        break;
      case "synced":
        this.store.update(applySyncedCursors(frame.cursors));
        break;
      case "typing":
        this.typing.received(frame.conversationId, frame.userId);
        break;
      case "read":
        this.receipts.received(frame.conversationId, frame.userId, frame.seq);
        break;
      case "presence":
        this.presence.received({ userId: frame.userId, online: frame.online, lastSeen: frame.lastSeen });
        break;
      case "error": {
        const cmid = frame.ref?.clientMessageId;
        const cid = frame.ref?.conversationId;
        const known = cmid && cid ? this.outbox.rejected(cid, cmid, frame.code, frame.message) : false;
        // Not a member any more (removed while away, or on another device): the list refetch drops the chat.
        if (!known && cid && frame.code === "NOT_MEMBER" && this.store.getState().conversations[cid]) {
          void this.refreshConversations();
        }
        break;
      }
      default: {
        // A newer server's frame type: ignored, but a seq it carries still moves the sync cursor.
        const f = frame as { conversationId?: unknown; seq?: unknown };
        if (typeof f.conversationId === "string" && typeof f.seq === "number" && Number.isInteger(f.seq)) {
          const seq = f.seq;
          this.store.update(changeList(f.conversationId, (l) => noteSeq(l, seq)));
        }
        break;
      }
    }
  }

  /** Stored entries (messages and events) from a live push, a sync page or a gap fill. */
  private onEntries(conversationId: string, entries: StoredEntry[]): void {
    if (entries.length === 0) return;
    const me = this.store.getState().me.userId;
    const before = this.store.getState().messages[conversationId];
    this.store.update(changeList(conversationId, (l) => mergeStored(l, entries, me)));
    // A message ends its sender's "typing…" — but only a new one: a repeat or a sync page is old news.
    const known = new Set(before?.stored.map((m) => m.seq));
    const fresh = entries.filter((m): m is StoredMessage => !isEvent(m) && !known.has(m.seq));
    const senders = new Set(fresh.map((m) => m.senderId));
    this.notifyHidden(fresh);
    const system = entries.filter((e): e is SystemEvent => isSystem(e));
    if (system.length > 0) this.onSystemEvents(conversationId, system);
    this.store.update(notePreviewChanges(conversationId, this.store.getState().messages[conversationId], entries));
    this.store.update((s) => noteStored(conversationId, entries, me)(clearTypers(conversationId, senders)(s)));
    this.outbox.stored(conversationId, entries);
    const s = this.store.getState();
    if (!s.conversations[conversationId] && !s.departed[conversationId]) {
      void this.refreshConversations(); // a chat we were just added to
    }
    this.history.fillGapBefore(conversationId, before, entries);
    this.receipts.markOpenRead();
  }

  /**
   * Membership and title changes newer than the chat's summary (older ones are already in it) update it; one
   * that takes the user out marks the chat departed and refetches the list (which drops it), one that brings
   * them back clears that.
   */
  private onSystemEvents(conversationId: string, events: readonly SystemEvent[]): void {
    const me = this.store.getState().me.userId;
    this.names.resolve(events.flatMap(namedIn));
    let left = false;
    const apply =
      (e: SystemEvent): StateChange =>
      (s) => {
        const c = s.conversations[conversationId];
        const departed = s.departed[conversationId];
        if ((c && e.seq <= c.lastSeq) || (departed && e.seq <= departed.atSeq)) return s;
        const next = c ? summaryAfter(c, e) : c;
        let out = next === c ? s : { ...s, conversations: { ...s.conversations, [conversationId]: next! } };
        const membership = membershipOf(e, me);
        if (membership === "removed" || membership === "left") {
          left = true;
          const title = next?.title ?? departed?.title;
          const record = { reason: membership, atSeq: e.seq, ...(title ? { title } : {}) };
          out = { ...out, departed: { ...out.departed, [conversationId]: record } };
        } else if (membership === "added" && departed) {
          const { [conversationId]: _gone, ...rest } = out.departed;
          out = { ...out, departed: rest };
        }
        return out;
      };
    for (const e of [...events].sort((a, b) => a.seq - b.seq)) this.store.update(apply(e));
    if (left) void this.refreshConversations();
  }

  private notifyHidden(fresh: readonly StoredMessage[]): void {
    const notify = this.options.onNotify;
    if (!notify || fresh.length === 0) return;
    const s = this.store.getState();
    const visible = this.isVisible();
    const newest = fresh.reduce((a, b) => (b.seq > a.seq ? b : a));
    const c = s.conversations[newest.conversationId];
    const title = c?.kind === "group" ? c.title : undefined;
    const n = notificationFor(newest, s.me.userId, visible, s.names[newest.senderId] ?? newest.senderId, title);
    if (n) notify(n);
  }

  // ---- errors -------------------------------------------------------------------------------------------------

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
    this.store.update((s) => ({ ...s, notice: message }));
  }
}
