/**
 * The chat list: one summary per conversation, merged from HTTP lists, `synced` cursors, live messages and read
 * positions. Seqs only grow, so every merge keeps the larger one and a late or repeated input never moves a chat
 * backwards. Pure functions: the client applies them to its store.
 */
import { previewOf } from "../../../runtime/contracts/api";
import type { ConversationSummary } from "./api";
import { isMessage, type MessageList, type StoredEntry } from "./messageList";
import type { StateChange } from "./store";

/** Newest activity first; a chat without messages sorts by when it was created. */
export function sortConversations(all: Iterable<ConversationSummary>): ConversationSummary[] {
  return [...all].sort(
    (a, b) =>
      (b.lastMessageAt ?? b.createdAt) - (a.lastMessageAt ?? a.createdAt) ||
      a.conversationId.localeCompare(b.conversationId),
  );
}

/**
 * The server counts nothing unread once the newest message is read (later reactions and edits are not unread):
 * the client, which counts lastSeq − lastReadSeq, reads such a chat as read up to its lastSeq.
 */
function asServerCounts(c: ConversationSummary): ConversationSummary {
  return c.unread === 0 && c.lastSeq > c.lastReadSeq ? { ...c, lastReadSeq: c.lastSeq } : c;
}

/** Keeps whichever side knows more: seqs only grow, so the larger one is the newer truth. */
export function mergeSummary(
  local: ConversationSummary | undefined,
  fetched: ConversationSummary,
): ConversationSummary {
  const remote = asServerCounts(fetched);
  if (!local) return remote;
  const remoteNewer = remote.lastSeq >= local.lastSeq;
  const newest = remoteNewer ? remote : local;
  return {
    ...remote,
    lastSeq: newest.lastSeq,
    lastMessageAt: newest.lastMessageAt,
    lastPreview: newest.lastPreview,
    lastSenderId: newest.lastSenderId,
    lastReadSeq: Math.max(local.lastReadSeq, remote.lastReadSeq),
  };
}

/** Summaries fetched over HTTP (the list, or one created chat) merged into what the client knows. */
export function mergeSummaries(remote: readonly ConversationSummary[]): StateChange {
  return (s) => {
    const conversations: Record<string, ConversationSummary> = { ...s.conversations };
    for (const c of remote) conversations[c.conversationId] = mergeSummary(conversations[c.conversationId], c);
    return { ...s, conversations };
  };
}

/**
 * The full chat list fetched over HTTP: merged like mergeSummaries, and a chat that was known when the fetch
 * began but is not in it any more is dropped — the user was removed or left (a chat that appeared during the
 * fetch, such as one just created, stays). A dropped chat is recorded as departed, with its title.
 */
export function applyFullList(remote: readonly ConversationSummary[], knownBefore: ReadonlySet<string>): StateChange {
  return (s) => {
    const merged = mergeSummaries(remote)(s);
    const listed = new Set(remote.map((c) => c.conversationId));
    const gone = [...knownBefore].filter((id) => !listed.has(id) && merged.conversations[id]);
    if (gone.length === 0) return merged;
    const conversations = { ...merged.conversations };
    const departed = { ...merged.departed };
    for (const id of gone) {
      const c = conversations[id]!;
      departed[id] ??= { reason: "removed", atSeq: c.lastSeq, ...(c.title ? { title: c.title } : {}) };
      delete conversations[id];
    }
    return { ...merged, conversations, departed };
  };
}

/** A `synced` frame's cursors: the server's last seq per chat, which may be ahead of the list. */
export function applySyncedCursors(cursors: readonly { conversationId: string; lastSeq: number }[]): StateChange {
  return (s) => {
    let conversations = s.conversations;
    for (const c of cursors) {
      const known = conversations[c.conversationId];
      if (known && c.lastSeq > known.lastSeq) {
        conversations = { ...conversations, [c.conversationId]: { ...known, lastSeq: c.lastSeq } };
      }
    }
    return conversations === s.conversations ? s : { ...s, conversations };
  };
}

/**
 * Preview, time and unread from stored entries: every entry moves lastSeq (the server counts them all), only a
 * message gives the preview and time; writing (or changing) something means having read the chat up to it.
 */
export function noteStored(conversationId: string, entries: readonly StoredEntry[], selfId: string): StateChange {
  if (entries.length === 0) return (s) => s;
  const newestSeq = entries.reduce((a, e) => Math.max(a, e.seq), 0);
  const messages = entries.filter(isMessage);
  const newest = messages.length === 0 ? undefined : messages.reduce((a, b) => (b.seq > a.seq ? b : a));
  const ownNewest = entries.filter((m) => m.senderId === selfId).reduce((a, m) => Math.max(a, m.seq), 0);
  return (s) => {
    const known = s.conversations[conversationId];
    if (!known) return s;
    let c = known;
    if (newest && newest.seq > known.lastSeq) {
      c = {
        ...c,
        lastMessageAt: newest.sentAt,
        lastPreview: previewOf(newest.body),
        lastSenderId: newest.senderId,
      };
    }
    if (newestSeq > c.lastSeq) {
      // Nothing was unread and no message came: reactions and edits are not unread (as the server counts).
      const stillRead = c.lastReadSeq >= c.lastSeq && !(newest && newest.seq > c.lastReadSeq);
      c = { ...c, lastSeq: newestSeq, ...(stillRead ? { lastReadSeq: newestSeq } : {}) };
    }
    if (ownNewest > c.lastReadSeq) c = { ...c, lastReadSeq: ownNewest };
    return c === known ? s : { ...s, conversations: { ...s.conversations, [conversationId]: c } };
  };
}

/** What the chat list shows for a newest message that was deleted (the server's DELETED_PREVIEW). */
export const DELETED_PREVIEW = "Message deleted";

/**
 * An edit or delete of the chat's newest message changes its preview, as the server's does. `list` is the
 * conversation's list with the entries merged: its last message is the newest one (anything newer would have
 * arrived live or in the page that brought it). Entries the summary already includes (seq <= lastSeq) are old news.
 */
export function notePreviewChanges(
  conversationId: string,
  list: MessageList | undefined,
  entries: readonly StoredEntry[],
): StateChange {
  const newest = list?.stored[list.stored.length - 1];
  return (s) => {
    const c = s.conversations[conversationId];
    if (!c || !newest) return s;
    let preview: string | undefined;
    for (const e of entries) {
      if (e.seq <= c.lastSeq || (e.kind !== "edit" && e.kind !== "delete") || e.target !== newest.seq) continue;
      preview = e.kind === "delete" ? DELETED_PREVIEW : previewOf(e.body);
    }
    return preview === undefined || preview === c.lastPreview
      ? s
      : { ...s, conversations: { ...s.conversations, [conversationId]: { ...c, lastPreview: preview } } };
  };
}

/** The user has read a chat up to `seq` (here or on another device); read positions only move forward. */
export function readUpTo(conversationId: string, seq: number): StateChange {
  return (s) => {
    const c = s.conversations[conversationId];
    if (!c || seq <= c.lastReadSeq) return s;
    return { ...s, conversations: { ...s.conversations, [conversationId]: { ...c, lastReadSeq: seq } } };
  };
}
