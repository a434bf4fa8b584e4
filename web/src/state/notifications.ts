/**
 * The tab's title badge and desktop notifications: what to show, decided from the state alone. The browser
 * calls (document.title, `new Notification`) stay in the app shell; permission is asked only from a button.
 */
import type { ConversationSummary } from "./api";
import type { StoredMessage } from "./messageList";
import { unreadCount } from "./unread";

export function totalUnread(conversations: Readonly<Record<string, ConversationSummary>>): number {
  let n = 0;
  for (const c of Object.values(conversations)) n += unreadCount(c);
  return n;
}

/** "(3) Parley" while anything is unread, "Parley" otherwise. */
export function documentTitle(conversations: Readonly<Record<string, ConversationSummary>>): string {
  const n = totalUnread(conversations);
  return n > 0 ? `(${n}) Parley` : "Parley";
}

export interface DesktopNotification {
  title: string;
  body: string;
  /** One notification per chat: a newer message replaces the older one instead of piling up. */
  tag: string;
  conversationId: string;
}

/** A new message from someone else while the tab is hidden; nothing otherwise. */
export function notificationFor(
  m: StoredMessage,
  me: string,
  visible: boolean,
  senderName: string,
  chatTitle: string | undefined,
): DesktopNotification | undefined {
  if (visible || m.senderId === me) return undefined;
  const title = chatTitle && chatTitle !== senderName ? `${senderName} in ${chatTitle}` : senderName;
  const body = m.body.length > 200 ? `${m.body.slice(0, 200)}…` : m.body;
  return { title, body, tag: m.conversationId, conversationId: m.conversationId };
}
