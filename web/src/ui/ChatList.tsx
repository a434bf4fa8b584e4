import type { ChatState } from "../state/chatClient";
import { sortConversations } from "../state/chatList";
import { unreadCount } from "../state/unread";
import { conversationTitle, displayName, formatTime, otherMember } from "./format";
import { PresenceDot } from "./PresenceDot";

export function ChatList({ state, onOpen }: { state: ChatState; onOpen: (conversationId: string) => void }) {
  const conversations = sortConversations(Object.values(state.conversations));
  if (!state.conversationsLoaded && conversations.length === 0) return <p className="muted">Loading chats…</p>;
  if (conversations.length === 0) return <p className="muted">No chats yet.</p>;
  const me = state.me.userId;
  return (
    <ul className="chat-list" aria-label="Conversations">
      {conversations.map((c) => {
        const title = conversationTitle(c, me, state.names);
        const unread = unreadCount(c);
        const other = otherMember(c, me);
        const online = other ? state.presence[other]?.online : undefined;
        const open = state.openConversationId === c.conversationId;
        const preview = c.lastPreview
          ? `${c.lastSenderId === me ? "You: " : c.kind === "group" && c.lastSenderId ? `${displayName(state.names, c.lastSenderId)}: ` : ""}${c.lastPreview}`
          : "No messages yet";
        return (
          <li key={c.conversationId}>
            <button
              type="button"
              className={`chat-item${unread > 0 ? " has-unread" : ""}`}
              data-testid="chat-item"
              data-conversation-id={c.conversationId}
              aria-current={open ? "true" : undefined}
              onClick={() => onOpen(c.conversationId)}
            >
              <span className="chat-title">
                {online !== undefined && <PresenceDot online={online} />}
                <span className="name" dir="auto">
                  {title}
                </span>
                <time className="time">{formatTime(c.lastMessageAt)}</time>
              </span>
              <span className="chat-preview">
                <span className="preview" dir="auto">
                  {preview}
                </span>
                {unread > 0 && (
                  <span className="badge" data-testid="unread-badge">
                    {unread}
                    <span className="visually-hidden"> unread</span>
                  </span>
                )}
              </span>
            </button>
          </li>
        );
      })}
    </ul>
  );
}
