import { useCallback, useEffect, useState } from "react";
import { WS_AUTH_PROTOCOL_PREFIX, WS_PATH, WS_PROTOCOL } from "../../../runtime/contracts/wire";
import { HttpApi, clearSession, loadSession, saveSession, type Session } from "../state/api";
import { ChatClient } from "../state/chatClient";
import type { DesktopNotification } from "../state/notifications";
import { conversationFromPath, pathOf } from "../state/route";
import type { SocketLike } from "../state/socket";
import { AuthScreen } from "./AuthScreen";
import { ChatScreen } from "./ChatScreen";
import { useTheme } from "./useTheme";

/** Same origin as the page; the token rides as a subprotocol so it never appears in a URL or access log. */
export function openSocket(token: string): SocketLike {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return new WebSocket(`${scheme}//${location.host}${WS_PATH}`, [WS_PROTOCOL, WS_AUTH_PROTOCOL_PREFIX + token]);
}

/** Shown only if the user allowed it (NotificationsButton asks); a click brings the tab and that chat forward. */
function showNotification(n: DesktopNotification, open: (conversationId: string) => void): void {
  if (typeof Notification === "undefined" || Notification.permission !== "granted") return;
  const shown = new Notification(n.title, { body: n.body, tag: n.tag });
  shown.onclick = () => {
    window.focus();
    open(n.conversationId);
  };
}

/** The open chat lives in the URL: opening one pushes /c/<id>, Back and Forward reopen what they point at. */
function followUrl(c: ChatClient): () => void {
  c.openConversation(conversationFromPath(location.pathname));
  const unsubscribe = c.subscribe(() => {
    const path = pathOf(c.getState().openConversationId);
    if (location.pathname !== path) history.pushState(null, "", path);
  });
  const onPop = () => c.openConversation(conversationFromPath(location.pathname));
  window.addEventListener("popstate", onPop);
  return () => {
    unsubscribe();
    window.removeEventListener("popstate", onPop);
  };
}

export function App() {
  const { theme, toggle } = useTheme();
  const [session, setSession] = useState<Session | null>(() => loadSession());
  const [client, setClient] = useState<ChatClient | null>(null);
  const [notice, setNotice] = useState<string | undefined>();

  useEffect(() => {
    if (!session) return;
    const c = new ChatClient({
      session,
      api: new HttpApi(() => session.token),
      createSocket: () => openSocket(session.token),
      onUnauthorized: () => {
        clearSession();
        setSession(null);
        setNotice("Your session has ended. Please log in again.");
      },
      onNotify: (n) => showNotification(n, (id) => c.openConversation(id)),
    });
    const unfollow = followUrl(c);
    const offline = () => c.browserOffline();
    const online = () => c.browserOnline();
    const visibility = () => c.visibilityChanged();
    window.addEventListener("offline", offline);
    window.addEventListener("online", online);
    document.addEventListener("visibilitychange", visibility);
    window.addEventListener("focus", visibility);
    c.start();
    setClient(c);
    return () => {
      window.removeEventListener("offline", offline);
      window.removeEventListener("online", online);
      document.removeEventListener("visibilitychange", visibility);
      window.removeEventListener("focus", visibility);
      unfollow();
      c.stop();
      setClient(null);
    };
  }, [session]);

  const onAuthenticated = useCallback((s: Session) => {
    saveSession(s);
    setNotice(undefined);
    setSession(s);
  }, []);

  const logout = useCallback(() => {
    void client?.logout();
    clearSession();
    setSession(null);
    history.replaceState(null, "", "/");
    setNotice("You have logged out.");
  }, [client]);

  if (!session) return <AuthScreen onAuthenticated={onAuthenticated} notice={notice} />;
  if (!client) return null;
  return <ChatScreen client={client} onLogout={logout} theme={theme} onToggleTheme={toggle} />;
}
