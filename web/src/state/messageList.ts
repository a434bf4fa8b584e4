/**
 * One conversation's messages as the client sees them: stored messages ordered by seq (the server's total
 * order), followed by the user's own sends that are not stored yet. Every function is pure and returns the
 * same object when nothing changed, so React can skip re-rendering.
 */
import type { StoredMessage } from "../../../runtime/contracts/messages";

export type { StoredMessage };

export type SendStatus = "pending" | "accepted" | "failed";

/** A message the user sent that has not come back as stored yet. */
export interface PendingSend {
  clientMessageId: string;
  body: string;
  status: SendStatus;
  queuedAt: number;
  error?: string;
}

export interface MessageList {
  /** Ascending by seq, one entry per seq. */
  stored: StoredMessage[];
  /** In the order the user sent them. */
  pending: PendingSend[];
  /** Whether the latest page has been fetched (live pushes alone do not count). */
  historyLoaded: boolean;
  /** Whether older pages exist before stored[0]. */
  hasMoreBefore: boolean;
}

export const emptyMessageList: MessageList = { stored: [], pending: [], historyLoaded: false, hasMoreBefore: false };

export type DisplayStatus = SendStatus | "stored";

export type DisplayItem =
  | { key: string; kind: "stored"; status: "stored"; message: StoredMessage }
  | { key: string; kind: "pending"; status: SendStatus; send: PendingSend };

export function lastSeqOf(list: MessageList): number {
  return list.stored.length === 0 ? 0 : list.stored[list.stored.length - 1]!.seq;
}

export function firstSeqOf(list: MessageList): number | undefined {
  return list.stored[0]?.seq;
}

/**
 * Merges stored messages (live pushes, sync pages, history pages — in any order, with repeats) into the list.
 * Delivery is at-least-once, so a seq already present is dropped. A stored message that is the user's own
 * send replaces its pending entry: from here its place is fixed by seq.
 */
export function mergeStored(list: MessageList, incoming: readonly StoredMessage[], selfId: string): MessageList {
  if (incoming.length === 0) return list;
  const known = new Set(list.stored.map((m) => m.seq));
  const fresh: StoredMessage[] = [];
  for (const m of incoming) {
    if (known.has(m.seq)) continue;
    known.add(m.seq);
    fresh.push(m);
  }
  const ownIds = new Set(incoming.filter((m) => m.senderId === selfId).map((m) => m.clientMessageId));
  const pending = ownIds.size === 0 ? list.pending : list.pending.filter((p) => !ownIds.has(p.clientMessageId));
  if (fresh.length === 0 && pending.length === list.pending.length) return list;
  const stored = fresh.length === 0 ? list.stored : [...list.stored, ...fresh].sort((a, b) => a.seq - b.seq);
  return { ...list, stored, pending };
}

/** Adds a history page fetched with `before=` (or the latest page) and records whether more exist. */
export function mergeHistoryPage(
  list: MessageList,
  page: readonly StoredMessage[],
  hasMore: boolean,
  selfId: string,
): MessageList {
  const merged = mergeStored(list, page, selfId);
  return { ...merged, historyLoaded: true, hasMoreBefore: hasMore };
}

export function addPending(
  list: MessageList,
  send: { clientMessageId: string; body: string; now: number },
): MessageList {
  if (list.pending.some((p) => p.clientMessageId === send.clientMessageId)) return list;
  const entry: PendingSend = {
    clientMessageId: send.clientMessageId,
    body: send.body,
    status: "pending",
    queuedAt: send.now,
  };
  return { ...list, pending: [...list.pending, entry] };
}

function updatePending(
  list: MessageList,
  clientMessageId: string,
  change: (p: PendingSend) => PendingSend | undefined,
): MessageList {
  const index = list.pending.findIndex((p) => p.clientMessageId === clientMessageId);
  if (index < 0) return list;
  const next = change(list.pending[index]!);
  if (next === undefined) return list;
  const pending = list.pending.slice();
  pending[index] = next;
  return { ...list, pending };
}

/**
 * The gateway has the message durably (SQS accepted it). An `accepted` for a send that is already stored
 * (the stored push won the race) or unknown is ignored.
 */
export function markAccepted(list: MessageList, clientMessageId: string): MessageList {
  return updatePending(list, clientMessageId, (p) =>
    p.status === "accepted"
      ? undefined
      : { clientMessageId: p.clientMessageId, body: p.body, queuedAt: p.queuedAt, status: "accepted" },
  );
}

/** The send was rejected or timed out; the user may retry it. Accepted sends never fail: they are durable. */
export function markFailed(list: MessageList, clientMessageId: string, error: string): MessageList {
  return updatePending(list, clientMessageId, (p) =>
    p.status === "pending" ? { ...p, status: "failed", error } : undefined,
  );
}

/**
 * Puts a failed send back to pending. The caller resends it with the SAME clientMessageId, so if the first
 * attempt did reach the queue the server stores it only once.
 */
export function markRetrying(list: MessageList, clientMessageId: string): MessageList {
  return updatePending(list, clientMessageId, (p) =>
    p.status === "failed"
      ? { clientMessageId: p.clientMessageId, body: p.body, queuedAt: p.queuedAt, status: "pending" }
      : undefined,
  );
}

/** Stored messages by seq, then the user's unstored sends in the order they were written. */
export function displayItems(list: MessageList): DisplayItem[] {
  const items: DisplayItem[] = list.stored.map((message) => ({
    key: `s:${message.seq}`,
    kind: "stored",
    status: "stored",
    message,
  }));
  for (const send of list.pending) {
    items.push({ key: `p:${send.clientMessageId}`, kind: "pending", status: send.status, send });
  }
  return items;
}
