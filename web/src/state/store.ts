/**
 * The client's state and who listens to it. React reads snapshots (`subscribe`/`getState` for
 * useSyncExternalStore); the state modules change it only through `update`, with a pure function from the old
 * state to the new one. A change that returns the same object changed nothing, and no listener runs.
 */
import type { ConversationSummary, Presence, User } from "./api";
import type { ConnectionSnapshot } from "./connection";
import { emptyMessageList, type MessageList } from "./messageList";
import type { TypingMap } from "./typing";

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
  /**
   * Where the open chat's "new messages" divider goes: after this seq (the read position when it opened), or
   * null when nothing was unread. Decided once per opening; absent until the chat's summary is known.
   */
  unreadDivider?: { conversationId: string; afterSeq: number | null };
  /** Last HTTP failure worth showing (cleared by the next success). */
  notice?: string;
  /**
   * Conversations the user is no longer in: removed, or left (`atSeq`: the event's seq, so only a later `add`
   * brings them back). Kept after the chat list drops them, so the open view can say why it is read-only.
   */
  departed: Readonly<Record<string, Departure>>;
  /** The latest refused change (an error frame), shown in its conversation until dismissed or replaced. */
  actionNotice?: { conversationId: string; text: string };
}

export interface Departure {
  reason: "removed" | "left";
  atSeq: number;
  /** The conversation's title when it was left, for the view once the chat list no longer has it. */
  title?: string;
}

/** A pure state transition; returning the given state means "no change". */
export type StateChange = (s: ChatState) => ChatState;

export function initialChatState(me: User): ChatState {
  return {
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
    departed: {},
  };
}

/** Shows a refused change in its conversation. */
export function noticeIn(conversationId: string, text: string): StateChange {
  return (s) => ({ ...s, actionNotice: { conversationId, text } });
}

/** Changes one conversation's message list (an absent one starts empty). */
export function changeList(conversationId: string, change: (l: MessageList) => MessageList): StateChange {
  return (s) => {
    const current = s.messages[conversationId] ?? emptyMessageList;
    const next = change(current);
    return next === current ? s : { ...s, messages: { ...s.messages, [conversationId]: next } };
  };
}

export class ChatStore {
  private state: ChatState;
  private readonly listeners = new Set<() => void>();

  constructor(initial: ChatState) {
    this.state = initial;
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getState = (): ChatState => this.state;

  update(change: StateChange): void {
    const next = change(this.state);
    if (next === this.state) return;
    this.state = next;
    for (const l of this.listeners) l();
  }
}
