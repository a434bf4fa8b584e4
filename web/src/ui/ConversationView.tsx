import { useLayoutEffect, useMemo, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import { MAX_BODY_CHARS } from "../../../runtime/contracts/ids";
import type { ChatClient, ChatState } from "../state/chatClient";
import { displayItems, emptyMessageList, type DisplayItem } from "../state/messageList";
import { activeTypers, typingLabel } from "../state/typing";
import { seenBy } from "../state/unread";
import { conversationTitle, displayName, formatTime, otherMember } from "./format";

interface Props {
  client: Pick<ChatClient, "send" | "retry" | "notifyTyping" | "loadOlder" | "openConversation">;
  state: ChatState;
  conversationId: string;
}

const statusText = { pending: "Sending…", accepted: "Sent", stored: "Delivered", failed: "Not sent" } as const;

export function ConversationView({ client, state, conversationId }: Props) {
  const summary = state.conversations[conversationId];
  const list = state.messages[conversationId] ?? emptyMessageList;
  const items = useMemo(() => displayItems(list), [list]);
  const me = state.me.userId;
  const [draft, setDraft] = useState("");
  const scrollRef = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  /** Distance from the bottom before older messages were prepended, to keep the view still. */
  const anchor = useRef<number | null>(null);
  const loadingOlder = state.loadingOlder[conversationId] ?? false;

  const title = summary ? conversationTitle(summary, me, state.names) : "Chat";
  const other = summary ? otherMember(summary, me) : undefined;
  const presence = other ? state.presence[other] : undefined;
  const subtitle =
    summary?.kind === "group"
      ? `${summary.memberIds.length} members`
      : presence?.online
        ? "online"
        : presence
          ? `last seen ${formatTime(presence.lastSeen)}`
          : "";

  const typers = activeTypers(state.typing[conversationId], Date.now()).filter((u) => u !== me);
  const typingText = typingLabel(typers.map((u) => displayName(state.names, u)));

  // Where "Seen by" goes: under the newest own stored message that someone has read.
  const receipts = state.receipts[conversationId];
  let seen: { seq: number; names: string[] } | undefined;
  for (let i = list.stored.length - 1; i >= 0 && !seen; i--) {
    const m = list.stored[i]!;
    if (m.senderId !== me) continue;
    const readers = seenBy(receipts, m.seq, me);
    if (readers.length > 0) seen = { seq: m.seq, names: readers.map((u) => displayName(state.names, u)) };
  }

  function loadOlder() {
    const el = scrollRef.current;
    if (!el || loadingOlder || !list.hasMoreBefore) return;
    anchor.current = el.scrollHeight - el.scrollTop;
    void client.loadOlder(conversationId);
  }

  useLayoutEffect(() => {
    const el = scrollRef.current;
    if (!el) return;
    if (anchor.current !== null && !loadingOlder) {
      el.scrollTop = el.scrollHeight - anchor.current;
      anchor.current = null;
    } else if (atBottom.current) {
      el.scrollTop = el.scrollHeight;
    }
    // A first page that does not fill the screen cannot be scrolled: fetch the next one now.
    if (list.hasMoreBefore && !loadingOlder && el.scrollHeight <= el.clientHeight && list.stored.length > 0)
      loadOlder();
  }, [items, loadingOlder, list.hasMoreBefore, typingText]);

  function onScroll() {
    const el = scrollRef.current;
    if (!el) return;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
    if (el.scrollTop < 80) loadOlder();
  }

  function submit(e?: FormEvent) {
    e?.preventDefault();
    if (draft.trim().length === 0) return;
    client.send(conversationId, draft);
    setDraft("");
    atBottom.current = true;
  }

  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      submit();
    } else if (e.key === "Escape") {
      client.openConversation(null);
    }
  }

  return (
    <section className="conversation" aria-labelledby="conversation-title" data-conversation-id={conversationId}>
      <header className="pane-header">
        <button type="button" className="back" aria-label="Back to chats" onClick={() => client.openConversation(null)}>
          ←
        </button>
        <div className="heading">
          <h2 id="conversation-title">{title}</h2>
          {subtitle && <span className="muted">{subtitle}</span>}
        </div>
      </header>
      <div className="messages" ref={scrollRef} onScroll={onScroll} role="log" aria-label="Messages" tabIndex={0}>
        {list.hasMoreBefore && (
          <button type="button" className="load-older" onClick={loadOlder} disabled={loadingOlder}>
            {loadingOlder ? "Loading…" : "Load older messages"}
          </button>
        )}
        {!list.historyLoaded && items.length === 0 && <p className="muted">Loading messages…</p>}
        {list.historyLoaded && items.length === 0 && <p className="muted">No messages yet. Say hello!</p>}
        <ol className="message-list" data-testid="message-list">
          {items.map((item) => (
            <MessageItem
              key={item.key}
              item={item}
              me={me}
              names={state.names}
              seenNames={item.kind === "stored" && seen?.seq === item.message.seq ? seen.names : undefined}
              onRetry={(cmid) => client.retry(conversationId, cmid)}
            />
          ))}
        </ol>
      </div>
      <p className="typing" aria-live="polite" data-testid="typing-indicator">
        {typingText}
      </p>
      <form className="composer" onSubmit={submit}>
        <label htmlFor="composer-input" className="visually-hidden">
          Message
        </label>
        <textarea
          id="composer-input"
          rows={1}
          value={draft}
          maxLength={MAX_BODY_CHARS}
          placeholder="Write a message"
          autoFocus
          onChange={(e) => {
            setDraft(e.target.value);
            client.notifyTyping(conversationId, e.target.value.trim().length > 0);
          }}
          onKeyDown={onKeyDown}
        />
        <button type="submit" className="primary" disabled={draft.trim().length === 0}>
          Send
        </button>
      </form>
    </section>
  );
}

function MessageItem({
  item,
  me,
  names,
  seenNames,
  onRetry,
}: {
  item: DisplayItem;
  me: string;
  names: Readonly<Record<string, string>>;
  seenNames?: string[];
  onRetry: (clientMessageId: string) => void;
}) {
  const own = item.kind === "pending" || item.message.senderId === me;
  const body = item.kind === "stored" ? item.message.body : item.send.body;
  const sender = item.kind === "stored" ? item.message.senderId : me;
  const time = item.kind === "stored" ? item.message.sentAt : item.send.queuedAt;
  return (
    <li
      className={`message ${own ? "own" : "other"} ${item.status}`}
      data-testid="message"
      data-status={item.status}
      data-seq={item.kind === "stored" ? item.message.seq : undefined}
    >
      <div className="meta">
        <span className="sender">{own ? "You" : displayName(names, sender)}</span>{" "}
        <time dateTime={new Date(time).toISOString()}>{formatTime(time)}</time>
      </div>
      <p className="body" data-testid="message-body">
        {body}
      </p>
      {own && (
        <div className="status">
          <span data-testid="message-status">{statusText[item.status]}</span>
          {item.kind === "pending" && item.status === "failed" && (
            <>
              {item.send.error && <span className="error"> — {item.send.error}</span>}{" "}
              <button type="button" onClick={() => onRetry(item.send.clientMessageId)}>
                Retry
              </button>
            </>
          )}
          {seenNames && <span data-testid="seen-by"> · Seen by {seenNames.join(", ")}</span>}
        </div>
      )}
    </li>
  );
}
