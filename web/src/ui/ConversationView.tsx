import { useLayoutEffect, useMemo, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import type { ChatClient, ChatState } from "../state/chatClient";
import { checkDraft } from "../state/limits";
import { previewOf } from "../../../runtime/contracts/api";
import { systemText } from "../state/events";
import { displayItems, emptyMessageList, lastSeqOf, type StoredMessage } from "../state/messageList";
import { arrivedAfter, timeline } from "../state/timeline";
import { activeTypers, typingLabel } from "../state/typing";
import { seenBy } from "../state/unread";
import { grownStart, windowStart } from "../state/rowWindow";
import { conversationTitle, displayName, formatTime, otherMember } from "./format";
import { GroupPanel } from "./GroupPanel";
import { MessageItem, type MessageActions, type Quote } from "./MessageItem";

interface Props {
  client: Pick<
    ChatClient,
    | "send"
    | "retry"
    | "notifyTyping"
    | "loadOlder"
    | "openConversation"
    | "edit"
    | "deleteMessage"
    | "react"
    | "addMembers"
    | "removeMember"
    | "leave"
    | "rename"
    | "searchUsers"
    | "dismissNotice"
  >;
  state: ChatState;
  conversationId: string;
}

export function ConversationView({ client, state, conversationId }: Props) {
  const summary = state.conversations[conversationId];
  const list = state.messages[conversationId] ?? emptyMessageList;
  const me = state.me.userId;
  const items = useMemo(() => displayItems(list, me), [list, me]);
  const departed = state.departed[conversationId];
  const readOnly = departed !== undefined;
  const divider = state.unreadDivider?.conversationId === conversationId ? state.unreadDivider.afterSeq : null;
  const rows = useMemo(() => timeline(items, me, divider, Date.now()), [items, me, divider]);
  /** The first rendered row (see state/rowWindow.ts); null: the default window at the tail. */
  const [firstKey, setFirstKey] = useState<string | null>(null);
  const start = windowStart(rows, firstKey);
  const [draft, setDraft] = useState("");
  const draftCheck = checkDraft(draft);
  const scrollRef = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  /** Whether the first positioning (at the unread divider, or the bottom) has happened. */
  const positioned = useRef(false);
  /** View state for the jump button: the reader is scrolled up, and the last seq they had below them then. */
  const [scrolledUpAt, setScrolledUpAt] = useState<number | null>(null);
  const newBelow = scrolledUpAt === null ? 0 : arrivedAfter(list, scrolledUpAt, me);
  /** Distance from the bottom before older messages were prepended, to keep the view still. */
  const anchor = useRef<number | null>(null);
  const loadingOlder = state.loadingOlder[conversationId] ?? false;
  const [membersOpen, setMembersOpen] = useState(false);
  const [replyTo, setReplyTo] = useState<(Quote & { seq: number }) | null>(null);
  const composerRef = useRef<HTMLTextAreaElement>(null);
  const notice = state.actionNotice?.conversationId === conversationId ? state.actionNotice.text : undefined;

  const title = summary ? conversationTitle(summary, me, state.names) : (departed?.title ?? "Chat");
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
  // Memoised, like onRetry: the rows are memo components, and typing must not re-render them.
  const seen = useMemo(() => {
    for (let i = list.stored.length - 1; i >= 0; i--) {
      const m = list.stored[i]!;
      if (m.senderId !== me) continue;
      const readers = seenBy(receipts, m.seq, me);
      if (readers.length > 0) return { seq: m.seq, names: readers.map((u) => displayName(state.names, u)) };
    }
    return undefined;
  }, [list.stored, receipts, me, state.names]);
  const actions = useMemo<MessageActions>(
    () => ({
      retry: (cmid) => client.retry(conversationId, cmid),
      reply: (m: StoredMessage) => {
        setReplyTo({
          seq: m.seq,
          senderId: m.senderId,
          ...(m.deleted ? { deleted: true } : { preview: previewOf(m.body) }),
        });
        composerRef.current?.focus();
      },
      edit: (seq, body) => client.edit(conversationId, seq, body),
      remove: (seq) => client.deleteMessage(conversationId, seq),
      react: (seq, emoji, on) => client.react(conversationId, seq, emoji, on),
    }),
    [client, conversationId],
  );
  /** The quote above a reply: as the server sent it, else (an unsent reply) from the message shown here. */
  const quotes = useMemo(() => {
    const bySeq = new Map(list.stored.map((m) => [m.seq, m]));
    const local = (seq: number): Quote | undefined => {
      const m = bySeq.get(seq);
      return (
        m &&
        (m.deleted ? { senderId: m.senderId, deleted: true } : { senderId: m.senderId, preview: previewOf(m.body) })
      );
    };
    return { local };
  }, [list.stored]);

  /** Renders more of what is loaded, else fetches an older page; either way the view stays still. */
  function loadOlder() {
    const el = scrollRef.current;
    if (!el || loadingOlder) return;
    const grown = grownStart(rows, start);
    if (grown === undefined && !list.hasMoreBefore) return;
    anchor.current = el.scrollHeight - el.scrollTop;
    if (grown !== undefined) setFirstKey(grown);
    else void client.loadOlder(conversationId);
  }

  /** Reads where the reader is; leaving the bottom remembers the last seq, reaching it clears the notice. */
  function notePosition(el: HTMLDivElement) {
    const bottom = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
    atBottom.current = bottom;
    const seq = lastSeqOf(list);
    setScrolledUpAt((current) => (bottom ? null : (current ?? seq)));
  }

  function jumpToLatest() {
    const el = scrollRef.current;
    if (!el) return;
    setFirstKey(null);
    el.scrollTop = el.scrollHeight;
    atBottom.current = true;
    setScrolledUpAt(null);
  }

  useLayoutEffect(() => {
    const el = scrollRef.current;
    if (!el) return;
    if (!positioned.current && list.historyLoaded) {
      // Open at the first unread message if there is one, else at the latest.
      positioned.current = true;
      const mark = el.querySelector<HTMLElement>('[data-testid="unread-divider"]');
      el.scrollTop = mark ? mark.offsetTop - 8 : el.scrollHeight;
      notePosition(el);
    } else if (anchor.current !== null && !loadingOlder) {
      el.scrollTop = el.scrollHeight - anchor.current;
      anchor.current = null;
    } else if (atBottom.current) {
      el.scrollTop = el.scrollHeight;
    }
    // A first page that does not fill the screen cannot be scrolled: fetch the next one now.
    if ((start > 0 || list.hasMoreBefore) && !loadingOlder && el.scrollHeight <= el.clientHeight && rows.length > 0)
      loadOlder();
  }, [items, loadingOlder, list.hasMoreBefore, typingText, start]);

  function onScroll() {
    const el = scrollRef.current;
    if (!el) return;
    notePosition(el);
    if (el.scrollTop < 80) loadOlder();
  }

  function submit(e?: FormEvent) {
    e?.preventDefault();
    // Past the limit the draft stays as typed, with the refusal shown: never cut and sent.
    if (readOnly || draft.trim().length === 0 || draftCheck.refusal) return;
    if (replyTo) client.send(conversationId, draft, replyTo.seq);
    else client.send(conversationId, draft);
    setDraft("");
    setReplyTo(null);
    jumpToLatest();
  }

  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      submit();
    } else if (e.key === "Escape") {
      if (replyTo) setReplyTo(null);
      else client.openConversation(null);
    }
  }

  return (
    <section className="conversation" aria-labelledby="conversation-title" data-conversation-id={conversationId}>
      <header className="pane-header">
        <button type="button" className="back" aria-label="Back to chats" onClick={() => client.openConversation(null)}>
          ←
        </button>
        <div className="heading">
          <h2 id="conversation-title" dir="auto">
            {title}
          </h2>
          {summary?.kind === "group" && !readOnly ? (
            <button
              type="button"
              className="link members-toggle"
              aria-expanded={membersOpen}
              aria-controls="group-panel"
              onClick={() => setMembersOpen((o) => !o)}
            >
              {subtitle}
            </button>
          ) : (
            subtitle && !readOnly && <span className="muted">{subtitle}</span>
          )}
        </div>
      </header>
      {membersOpen && summary && summary.kind === "group" && !readOnly && (
        <GroupPanel
          client={client}
          summary={summary}
          me={me}
          names={state.names}
          presence={state.presence}
          creator={summary.createdBy}
          onClose={() => setMembersOpen(false)}
        />
      )}
      {notice && (
        <div role="alert" className="notice error action-notice" data-testid="action-notice">
          <span>{notice}</span>{" "}
          <button type="button" onClick={() => client.dismissNotice()}>
            Dismiss
          </button>
        </div>
      )}
      <div className="messages" ref={scrollRef} onScroll={onScroll} role="log" aria-label="Messages" tabIndex={0}>
        {(start > 0 || list.hasMoreBefore) && (
          <button type="button" className="load-older" onClick={loadOlder} disabled={loadingOlder}>
            {loadingOlder ? "Loading…" : "Load older messages"}
          </button>
        )}
        {!list.historyLoaded && items.length === 0 && <p className="muted">Loading messages…</p>}
        {list.historyLoaded && items.length === 0 && <p className="muted">No messages yet. Say hello!</p>}
        <ol className="message-list" data-testid="message-list">
          {rows.slice(start).map((row) =>
            row.kind === "day" ? (
              <li key={row.key} className="separator" data-testid="day-separator">
                <span>{row.label}</span>
              </li>
            ) : row.kind === "unread" ? (
              <li key={row.key} className="separator unread" data-testid="unread-divider">
                <span>New messages</span>
              </li>
            ) : row.kind === "system" ? (
              <li key={row.key} className="system-line" data-testid="system-line">
                <span dir="auto">{systemText(row.event, me, state.names)}</span>
              </li>
            ) : (
              <MessageItem
                key={row.key}
                item={row.item}
                groupStart={row.groupStart}
                me={me}
                names={state.names}
                seenNames={row.item.kind === "stored" && seen?.seq === row.item.message.seq ? seen.names : undefined}
                actions={actions}
                readOnly={readOnly}
                quote={
                  row.item.kind === "stored"
                    ? row.item.message.replyTo
                    : row.item.send.replyTo !== undefined
                      ? quotes.local(row.item.send.replyTo)
                      : undefined
                }
              />
            ),
          )}
        </ol>
      </div>
      {scrolledUpAt !== null && (
        <button type="button" className="jump" data-testid="jump-to-latest" onClick={jumpToLatest}>
          {newBelow > 0 ? `${newBelow} new ${newBelow === 1 ? "message" : "messages"} ↓` : "Jump to latest ↓"}
        </button>
      )}
      <p className="visually-hidden" aria-live="polite">
        {newBelow > 0 ? `${newBelow} new ${newBelow === 1 ? "message" : "messages"} below` : ""}
      </p>
      <p className="typing" aria-live="polite" data-testid="typing-indicator">
        {typingText}
      </p>
      {departed ? (
        <p className="departed" role="status" data-testid="departed">
          {departed.reason === "left" ? "You left this group." : "You are no longer a member of this group."}
        </p>
      ) : (
        replyTo && (
          <div className="replying" data-testid="replying-to">
            <span>
              Replying to{" "}
              <span className="quote-sender" dir="auto">
                {replyTo.senderId === me ? "yourself" : displayName(state.names, replyTo.senderId)}
              </span>
              {": "}
              {replyTo.deleted ? <em>deleted</em> : <span dir="auto">{replyTo.preview}</span>}
            </span>
            <button type="button" aria-label="Cancel reply" onClick={() => setReplyTo(null)}>
              ×
            </button>
          </div>
        )
      )}
      <form className="composer" onSubmit={submit}>
        <label htmlFor="composer-input" className="visually-hidden">
          Message
        </label>
        <textarea
          id="composer-input"
          ref={composerRef}
          rows={1}
          value={draft}
          placeholder={readOnly ? "Read only" : "Write a message"}
          disabled={readOnly}
          aria-invalid={draftCheck.refusal ? true : undefined}
          aria-describedby={draftCheck.refusal ? "composer-refusal" : undefined}
          autoFocus
          onChange={(e) => {
            setDraft(e.target.value);
            client.notifyTyping(conversationId, e.target.value.trim().length > 0);
          }}
          onKeyDown={onKeyDown}
        />
        {draftCheck.counter && (
          <span className={`counter${draftCheck.refusal ? " error" : ""}`} data-testid="char-counter">
            {draftCheck.counter}
          </span>
        )}
        <button
          type="submit"
          className="primary"
          disabled={readOnly || draft.trim().length === 0 || !!draftCheck.refusal}
        >
          Send
        </button>
        {draftCheck.refusal && (
          <p id="composer-refusal" role="alert" className="refusal error" data-testid="composer-refusal">
            {draftCheck.refusal}
          </p>
        )}
      </form>
    </section>
  );
}
