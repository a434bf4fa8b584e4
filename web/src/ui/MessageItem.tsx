import { memo, useEffect, useRef, useState, type KeyboardEvent, type PointerEvent } from "react";
import { canDelete, canEdit, QUICK_EMOJI } from "../state/events";
import { checkDraft } from "../state/limits";
import type { DisplayItem, StoredMessage } from "../state/messageList";
import { displayName, formatTime } from "./format";
import { MessageBody } from "./MessageBody";

const statusText = { pending: "Sending…", accepted: "Sent", stored: "Delivered", failed: "Not sent" } as const;

/** How long a finger rests on a message before its actions open (touch screens have no hover). */
const LONG_PRESS_MS = 500;

/** What a message's actions do; one stable object per conversation, so a row re-renders only when it changes. */
export interface MessageActions {
  reply: (m: StoredMessage) => void;
  edit: (seq: number, body: string) => void;
  remove: (seq: number) => void;
  react: (seq: number, emoji: string, on: boolean) => void;
  retry: (clientMessageId: string) => void;
}

/** The quoted message above a reply. */
export interface Quote {
  senderId: string;
  preview?: string;
  deleted?: boolean;
}

export const MessageItem = memo(function MessageItem({
  item,
  groupStart,
  me,
  names,
  seenNames,
  actions,
  readOnly,
  quote,
}: {
  item: Exclude<DisplayItem, { kind: "system" }>;
  /** The first of a run by one sender: it carries the sender's name and the time as a header. */
  groupStart: boolean;
  me: string;
  names: Readonly<Record<string, string>>;
  seenNames?: string[];
  actions: MessageActions;
  /** The user is no longer a member: no actions. */
  readOnly: boolean;
  /** For a reply: the message it quotes. */
  quote?: Quote;
}) {
  const message = item.kind === "stored" ? item.message : undefined;
  const own = item.kind === "pending" || message?.senderId === me;
  const body = message ? message.body : item.kind === "pending" ? item.send.body : "";
  const sender = message ? message.senderId : me;
  const time = message ? message.sentAt : item.kind === "pending" ? item.send.queuedAt : 0;
  const [menuOpen, setMenuOpen] = useState(false);
  const [editing, setEditing] = useState<string | null>(null);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const pressTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const menuButton = useRef<HTMLButtonElement>(null);
  useEffect(() => () => clearTimeout(pressTimer.current), []);

  const stamp = (
    <time dateTime={new Date(time).toISOString()} data-testid="message-time">
      {formatTime(time)}
    </time>
  );
  const hasActions = !!message && !readOnly;
  const mayEdit = !!message && canEdit(message, me, Date.now());
  const mayDelete = !!message && canDelete(message, me);

  function closeMenu(focusButton = false) {
    setMenuOpen(false);
    if (focusButton) menuButton.current?.focus();
  }

  function onPointerDown(e: PointerEvent<HTMLLIElement>) {
    if (!hasActions || e.pointerType !== "touch") return;
    clearTimeout(pressTimer.current);
    pressTimer.current = setTimeout(() => setMenuOpen(true), LONG_PRESS_MS);
  }
  const cancelPress = () => clearTimeout(pressTimer.current);

  function saveEdit() {
    if (!message || editing === null) return;
    const text = editing;
    if (text.trim().length === 0 || checkDraft(text).refusal) return;
    if (text !== message.body) actions.edit(message.seq, text);
    setEditing(null);
  }

  function onEditKey(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      saveEdit();
    } else if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      setEditing(null);
    }
  }

  const reactions = message?.reactions ? Object.entries(message.reactions) : [];
  return (
    <li
      className={`message ${own ? "own" : "other"} ${item.status}${groupStart ? " group-start" : ""}${
        message?.deleted ? " deleted" : ""
      }`}
      data-testid="message"
      data-status={item.status}
      data-seq={message?.seq}
      onPointerDown={onPointerDown}
      onPointerUp={cancelPress}
      onPointerMove={cancelPress}
      onPointerCancel={cancelPress}
      onContextMenu={(e) => {
        // A long press on a touch screen opens the actions, not the browser's menu.
        if (hasActions && (e.nativeEvent as { pointerType?: string }).pointerType === "touch") e.preventDefault();
      }}
    >
      {groupStart && (
        <div className="meta">
          <span className="sender" data-testid="message-sender" dir="auto">
            {own ? "You" : displayName(names, sender)}
          </span>{" "}
          {stamp}
        </div>
      )}
      {quote && (
        <div className="quote" data-testid="reply-quote">
          <span className="quote-sender" dir="auto">
            {quote.senderId === me ? "You" : displayName(names, quote.senderId)}
          </span>
          {": "}
          {quote.deleted ? <em>deleted</em> : <span dir="auto">{quote.preview ?? ""}</span>}
        </div>
      )}
      {message?.deleted ? (
        <p className="body tombstone" data-testid="message-deleted">
          <em>Message deleted</em>
        </p>
      ) : editing !== null ? (
        <div className="edit-box">
          <label className="visually-hidden" htmlFor={`edit-${message?.seq}`}>
            Edit message
          </label>
          <textarea
            id={`edit-${message?.seq}`}
            value={editing}
            autoFocus
            rows={2}
            onChange={(e) => setEditing(e.target.value)}
            onKeyDown={onEditKey}
          />
          <div className="edit-actions">
            <button type="button" className="primary" onClick={saveEdit} disabled={editing.trim().length === 0}>
              Save
            </button>
            <button type="button" onClick={() => setEditing(null)}>
              Cancel
            </button>
          </div>
        </div>
      ) : (
        <MessageBody body={body} />
      )}
      {reactions.length > 0 && (
        <div className="reactions" role="group" aria-label="Reactions">
          {reactions.map(([emoji, users]) => {
            const mine = users.includes(me);
            const who = users.map((u) => (u === me ? "You" : displayName(names, u))).join(", ");
            return (
              <button
                key={emoji}
                type="button"
                className={`chip${mine ? " mine" : ""}`}
                data-testid="reaction"
                data-emoji={emoji}
                aria-pressed={mine}
                aria-label={`${emoji} ${users.length}: ${who}`}
                title={who}
                disabled={readOnly}
                onClick={() => message && actions.react(message.seq, emoji, !mine)}
              >
                <span aria-hidden="true">{emoji}</span> <span aria-hidden="true">{users.length}</span>
              </button>
            );
          })}
        </div>
      )}
      {confirmDelete && message && (
        <div className="confirm" role="group" aria-label="Delete message">
          <span>Delete this message for everyone?</span>{" "}
          <button
            type="button"
            className="danger"
            onClick={() => {
              setConfirmDelete(false);
              actions.remove(message.seq);
            }}
          >
            Delete
          </button>{" "}
          <button type="button" autoFocus onClick={() => setConfirmDelete(false)}>
            Cancel
          </button>
        </div>
      )}
      {(own || !groupStart || message?.editedAt) && (
        <div className="status">
          {!groupStart && stamp}
          {message?.editedAt && !message.deleted && (
            <>
              {!groupStart && " · "}
              <span className="edited" data-testid="edited">
                edited
              </span>
            </>
          )}
          {own && (
            <>
              {(!groupStart || (message?.editedAt && !message.deleted)) && " · "}
              <span data-testid="message-status">{statusText[item.status]}</span>
              {item.kind === "pending" && item.status === "failed" && (
                <>
                  {item.send.error && <span className="error"> — {item.send.error}</span>}{" "}
                  <button type="button" onClick={() => actions.retry(item.send.clientMessageId)}>
                    Retry
                  </button>
                </>
              )}
              {seenNames && <span data-testid="seen-by"> · Seen by {seenNames.join(", ")}</span>}
            </>
          )}
        </div>
      )}
      {hasActions && (
        <div className="actions">
          <button
            ref={menuButton}
            type="button"
            className="more"
            aria-label="Message actions"
            aria-expanded={menuOpen}
            onClick={() => setMenuOpen((o) => !o)}
          >
            …
          </button>
        </div>
      )}
      {hasActions && menuOpen && (
        <div
          className="action-menu"
          role="group"
          aria-label="Message actions"
          data-testid="action-menu"
          onKeyDown={(e) => {
            if (e.key === "Escape") {
              e.preventDefault();
              e.stopPropagation();
              closeMenu(true);
            }
          }}
        >
          {!message.deleted && (
            <div className="emoji-picker" role="group" aria-label="React">
              {QUICK_EMOJI.map((emoji) => {
                const mine = message.reactions?.[emoji]?.includes(me) ?? false;
                return (
                  <button
                    key={emoji}
                    type="button"
                    className={mine ? "mine" : undefined}
                    aria-label={`React with ${emoji}`}
                    aria-pressed={mine}
                    onClick={() => {
                      actions.react(message.seq, emoji, !mine);
                      closeMenu(true);
                    }}
                  >
                    {emoji}
                  </button>
                );
              })}
            </div>
          )}
          <button
            type="button"
            autoFocus
            onClick={() => {
              actions.reply(message);
              closeMenu();
            }}
          >
            Reply
          </button>
          {mayEdit && (
            <button
              type="button"
              onClick={() => {
                setEditing(message.body);
                closeMenu();
              }}
            >
              Edit
            </button>
          )}
          {mayDelete && (
            <button
              type="button"
              className="danger"
              onClick={() => {
                setConfirmDelete(true);
                closeMenu();
              }}
            >
              Delete
            </button>
          )}
        </div>
      )}
    </li>
  );
});
