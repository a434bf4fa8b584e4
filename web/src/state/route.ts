/**
 * The open chat in the URL: `/c/<conversationId>` (colons left readable), `/` for the list. The gateway
 * answers every page-like path with index.html, so a reload of /c/… lands here and reopens the chat.
 */

export function conversationFromPath(pathname: string): string | null {
  const m = /^\/c\/([^/]+)\/?$/.exec(pathname);
  if (!m) return null;
  try {
    return decodeURIComponent(m[1]!) || null;
  } catch {
    return null;
  }
}

export function pathOf(conversationId: string | null): string {
  return conversationId ? `/c/${encodeURIComponent(conversationId).replace(/%3A/gi, ":")}` : "/";
}
