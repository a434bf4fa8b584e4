/** Unread counts and read receipts: all derived from seqs, so they survive reconnects and duplicate frames. */

export interface ReadState {
  lastSeq: number;
  lastReadSeq: number;
}

export function unreadCount(c: ReadState): number {
  return Math.max(0, c.lastSeq - c.lastReadSeq);
}

/**
 * The seq to acknowledge with a `read` frame, or undefined. Only a conversation the user is looking at (open and
 * the tab visible) is read; a background tab keeps its badge until the user comes back.
 */
export function readToSend(c: ReadState, isOpen: boolean, isVisible: boolean): number | undefined {
  if (!isOpen || !isVisible) return undefined;
  return c.lastSeq > c.lastReadSeq ? c.lastSeq : undefined;
}

/** Receipts only move forward: a late or repeated `read` frame never un-reads a message. */
export function applyReceipt(
  receipts: Readonly<Record<string, number>> | undefined,
  userId: string,
  seq: number,
): Record<string, number> {
  const current = receipts?.[userId] ?? 0;
  if (receipts && seq <= current) return receipts as Record<string, number>;
  return { ...receipts, [userId]: seq };
}

/** Users other than the sender who have read at least up to `seq`. */
export function seenBy(
  receipts: Readonly<Record<string, number>> | undefined,
  seq: number,
  senderId: string,
): string[] {
  if (!receipts) return [];
  return Object.entries(receipts)
    .filter(([userId, readSeq]) => userId !== senderId && readSeq >= seq)
    .map(([userId]) => userId)
    .sort();
}
