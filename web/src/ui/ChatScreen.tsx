import { useEffect, useRef, useState } from "react";
import type { ChatClient } from "../state/chatClient";
import { bannerOf } from "../state/banner";
import { documentTitle } from "../state/notifications";
import type { Theme } from "../state/theme";
import { ChatList } from "./ChatList";
import { ConversationView } from "./ConversationView";
import { NewChat } from "./NewChat";
import { NotificationsButton } from "./NotificationsButton";
import { useChatState } from "./useChat";

const bannerText = {
  offline: "You are offline. Messages will be sent when the connection is back.",
  reconnecting: "Reconnecting…",
  blocked: "Too many open Parley tabs. Close one and try again.",
} as const;

interface Props {
  client: ChatClient;
  onLogout: () => void;
  theme?: Theme;
  onToggleTheme?: () => void;
}

export function ChatScreen({ client, onLogout, theme, onToggleTheme }: Props) {
  const state = useChatState(client);
  const [composing, setComposing] = useState(false);
  const openId = state.openConversationId;
  const banner = bannerOf(state.connection);
  const view = composing || openId ? "conversation" : "list";
  const lastOpen = useRef<string | null>(null);

  // A chat opened from elsewhere (Back/Forward, a notification) replaces the new-chat panel.
  useEffect(() => {
    if (openId) setComposing(false);
  }, [openId]);

  // Closing a chat removes the focused element; put focus back on that chat in the list (keyboard users).
  useEffect(() => {
    const previous = lastOpen.current;
    lastOpen.current = openId;
    if (openId === null && previous !== null && !composing) {
      document.querySelector<HTMLElement>(`[data-conversation-id="${previous}"][data-testid="chat-item"]`)?.focus();
    }
  }, [openId, composing]);

  const title = documentTitle(state.conversations);
  useEffect(() => {
    document.title = title;
  }, [title]);
  useEffect(
    () => () => {
      document.title = "Parley";
    },
    [],
  );

  return (
    <div className="app" data-view={view} data-connection={state.connection.status}>
      <header className="topbar">
        <h1 className="brand">Parley</h1>
        <span className="me" data-testid="me" dir="auto" title={state.me.displayName}>
          {state.me.displayName}
        </span>
        <NotificationsButton />
        {onToggleTheme && (
          <button
            type="button"
            className="icon-button"
            aria-label="Dark mode"
            aria-pressed={theme === "dark"}
            onClick={onToggleTheme}
          >
            <span aria-hidden="true">☾</span>
            <span className="label">Dark mode</span>
          </button>
        )}
        <button type="button" onClick={onLogout}>
          Log out
        </button>
      </header>
      <div role="status" className={`banner${banner ? ` ${banner}` : ""}`} data-testid="connection-banner">
        {banner && (
          <>
            <span>{bannerText[banner]}</span>
            {(banner === "blocked" || state.connection.status === "backoff") && (
              <button type="button" onClick={() => client.retryConnection()}>
                Retry now
              </button>
            )}
          </>
        )}
      </div>
      {state.notice && (
        <p role="alert" className="notice error">
          {state.notice}
        </p>
      )}
      <div className="layout">
        <nav className="sidebar" aria-label="Chats">
          <button
            type="button"
            className="primary new-chat"
            onClick={() => {
              client.openConversation(null);
              setComposing(true);
            }}
          >
            New chat
          </button>
          <ChatList
            state={state}
            onOpen={(id) => {
              setComposing(false);
              client.openConversation(id);
            }}
          />
        </nav>
        <main className="pane">
          {composing ? (
            <NewChat client={client} meId={state.me.userId} onDone={() => setComposing(false)} />
          ) : openId ? (
            <ConversationView key={openId} client={client} state={state} conversationId={openId} />
          ) : (
            <p className="empty">Select a chat, or start a new one.</p>
          )}
        </main>
      </div>
    </div>
  );
}
