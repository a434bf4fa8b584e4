/**
 * Where the socket's subscription starts per chat. After `ready` the connection asks for the cursors of every
 * chat the client knows; a chat it learns about later (the list arrived after `ready`, or a chat was created) is
 * synced on its own, once per connection, so a message stored in between is not missed.
 */
import type { Cursor, SendFrame } from "./connection";
import { lastSeqOf } from "./messageList";
import type { ChatStore } from "./store";

/** The server takes at most this many cursors in one `sync`. */
const MAX_SYNC_CURSORS = 500;

export interface SyncCursorsDeps {
  store: ChatStore;
  /** Sends a frame if the socket can take it; false: the chats stay uncovered and are tried again. */
  send: SendFrame;
}

export class SyncCursors {
  /** Conversations covered by a `sync` on the current connection. */
  private synced = new Set<string>();

  constructor(private readonly deps: SyncCursorsDeps) {}

  /** The cursors for the `sync` a new connection sends after `ready`: it covers exactly these. */
  forNewConnection(): Cursor[] {
    const cursors = this.all();
    this.synced = new Set(cursors.map((c) => c.conversationId));
    return cursors;
  }

  /** Syncs the chats the connection's `sync` did not cover, from the list's lastSeq. */
  syncUncovered(): void {
    const status = this.deps.store.getState().connection.status;
    if (status !== "live" && status !== "syncing") return;
    const cursors = this.all().filter((c) => !this.synced.has(c.conversationId));
    if (cursors.length === 0) return;
    if (this.deps.send({ type: "sync", cursors })) for (const c of cursors) this.synced.add(c.conversationId);
  }

  /** For each chat, the highest seq this client has (entries shown or the list's lastSeq). */
  private all(): Cursor[] {
    const { conversations, messages, departed } = this.deps.store.getState();
    // A chat the user left or was removed from answers NOT_MEMBER: it is not asked for.
    const ids = [...new Set([...Object.keys(conversations), ...Object.keys(messages)])].filter((id) => !departed[id]);
    return ids.slice(0, MAX_SYNC_CURSORS).map((conversationId) => {
      const list = messages[conversationId];
      const summary = conversations[conversationId];
      return { conversationId, afterSeq: Math.max(list ? lastSeqOf(list) : 0, summary?.lastSeq ?? 0) };
    });
  }
}
