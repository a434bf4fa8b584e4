/**
 * Read positions both ways: the open, visible chat is read up to its last seq (badge cleared, one `read` frame
 * per change), and `read` frames from the server move the user's own badge (another tab or device) or another
 * member's receipt. The seq rules are the pure parts in unread.ts.
 */
import { readUpTo } from "./chatList";
import type { SendFrame } from "./connection";
import type { NameLookup } from "./names";
import type { ChatStore } from "./store";
import { applyReceipt, readToSend } from "./unread";

export interface ReadReceiptsDeps {
  store: ChatStore;
  /** Sends a frame if the socket can take it; false: try again on the next change or connection. */
  send: SendFrame;
  /** Looks up the display name of a member whose receipt arrived. */
  names: NameLookup;
  isVisible: () => boolean;
}

export class ReadReceipts {
  /** Highest seq acknowledged to the server per conversation, so a `read` is sent once per change. */
  private readonly sent = new Map<string, number>();

  constructor(private readonly deps: ReadReceiptsDeps) {}

  /** The open, visible conversation is read up to its last seq: clear the badge and tell the server once. */
  markOpenRead(): void {
    const { store } = this.deps;
    const id = store.getState().openConversationId;
    if (!id) return;
    const c = store.getState().conversations[id];
    if (!c || store.getState().departed[id]) return;
    const visible = this.deps.isVisible();
    const seq = readToSend(c, true, visible);
    if (seq !== undefined) store.update(readUpTo(id, seq));
    const target = store.getState().conversations[id]?.lastReadSeq ?? 0;
    if (visible && target > 0 && (this.sent.get(id) ?? 0) < target) {
      if (this.deps.send({ type: "read", conversationId: id, seq: target })) this.sent.set(id, target);
    }
  }

  /** A new connection: re-acknowledge what the user has read. */
  reconnected(): void {
    this.sent.clear();
  }

  /**
   * The persisted read positions a history page carries (every member's lastReadSeq): "Seen by" as it was
   * before a reload. Positions only move forward, so a page older than a live `read` frame changes nothing.
   */
  seed(conversationId: string, positions: Readonly<Record<string, number>>): void {
    for (const [userId, seq] of Object.entries(positions)) this.received(conversationId, userId, seq);
  }

  /** A `read` frame from the server. */
  received(conversationId: string, userId: string, seq: number): void {
    const { store } = this.deps;
    if (userId === store.getState().me.userId) {
      // Read on another tab or device: the badge here clears too.
      store.update(readUpTo(conversationId, seq));
      return;
    }
    store.update((s) => {
      const current = s.receipts[conversationId];
      const next = applyReceipt(current, userId, seq);
      return next === current ? s : { ...s, receipts: { ...s.receipts, [conversationId]: next } };
    });
    this.deps.names.resolve([userId]);
  }
}
