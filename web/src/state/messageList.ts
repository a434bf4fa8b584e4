/**
 * One conversation's log as the client sees it: stored messages ordered by seq (the server's total order), the
 * membership and title changes shown as system lines between them, then the user's own sends that are not stored
 * yet. The other entries of the log — edits, deletes, reactions — are applied to the message they target, in
 * seq order, and skipped when the message already includes them (seq <= its `rev`). Every function is pure and
 * returns the same object when nothing changed, so React can skip re-rendering.
 */
import { previewOf } from "../../../runtime/contracts/api";
import type { ClientFrame } from "../../../runtime/contracts/frames";
import type { StoredEntry, StoredEvent, StoredMessage } from "../../../runtime/contracts/messages";

export type { StoredEntry, StoredEvent, StoredMessage };

export type SendStatus = "pending" | "accepted" | "failed";

/** A message the user sent that has not come back as stored yet. */
export interface PendingSend {
  clientMessageId: string;
  body: string;
  /** The seq of the message it replies to. */
  replyTo?: number;
  status: SendStatus;
  queuedAt: number;
  error?: string;
}

/** The frames that change a conversation (each an entry in its log, answered `accepted` once queued). */
export type ChangeFrame = Extract<
  ClientFrame,
  { type: "edit" | "delete" | "react" | "addMembers" | "removeMember" | "leave" | "rename" }
>;

/**
 * A change the user made that has not come back as a stored event yet: shown at once (an edit's body, a delete,
 * a reaction), sent again with the same clientMessageId until `accepted`, dropped when its event is stored or the
 * server refuses it.
 */
export interface PendingChange {
  clientMessageId: string;
  frame: ChangeFrame;
  status: "pending" | "accepted";
  queuedAt: number;
}

/** The log entries a conversation shows as a line of their own ("Alice added Carol"). */
export type SystemEvent = Extract<StoredEvent, { kind: "add" | "remove" | "leave" | "rename" }>;
type MessageEvent = Extract<StoredEvent, { kind: "edit" | "delete" | "react" }>;

export interface MessageList {
  /** Messages ascending by seq, one entry per seq, each in its latest known state. */
  stored: StoredMessage[];
  /** Membership and title changes ascending by seq. */
  system: SystemEvent[];
  /** The highest seq of any entry seen, of a known kind or not: where a sync resumes. */
  lastSeq: number;
  /** The lowest seq of any entry seen: where paging back continues. */
  firstSeq?: number;
  /** In the order the user sent them. */
  pending: PendingSend[];
  /** The user's changes not stored yet, in the order they were made. */
  changes: PendingChange[];
  /** Whether the latest page has been fetched (live pushes alone do not count). */
  historyLoaded: boolean;
  /** Whether older pages exist before firstSeq. */
  hasMoreBefore: boolean;
}

export const emptyMessageList: MessageList = {
  stored: [],
  system: [],
  lastSeq: 0,
  pending: [],
  changes: [],
  historyLoaded: false,
  hasMoreBefore: false,
};

export type DisplayStatus = SendStatus | "stored";

export type DisplayItem =
  | { key: string; kind: "stored"; status: "stored"; message: StoredMessage }
  | { key: string; kind: "system"; status: "stored"; event: SystemEvent }
  | { key: string; kind: "pending"; status: SendStatus; send: PendingSend };

export function lastSeqOf(list: MessageList): number {
  return list.lastSeq;
}

export function firstSeqOf(list: MessageList): number | undefined {
  return list.firstSeq;
}

/**
 * Whether an entry is a message (a server from before the event kinds sends none with `kind`). Written here, not
 * imported from runtime/contracts/messages.ts: a value import from there would bundle its zod schemas.
 */
export const isMessage = (e: StoredEntry): e is StoredMessage => e.kind === undefined || e.kind === "message";

/** The seq of the last entry applied to a message: a live message without `rev` is as it was sent. */
export const revOf = (m: StoredMessage): number => m.rev ?? m.seq;

const systemKinds: ReadonlySet<string> = new Set(["add", "remove", "leave", "rename"]);
const messageKinds: ReadonlySet<string> = new Set(["edit", "delete", "react"]);

/** A message's reactions after `userId` turned `emoji` on or off (an emoji nobody has any more is dropped). */
export function toggledReactions(
  reactions: Readonly<Record<string, readonly string[]>> | undefined,
  emoji: string,
  userId: string,
  on: boolean,
): Record<string, string[]> | undefined {
  const current = reactions?.[emoji] ?? [];
  const has = current.includes(userId);
  if (has === on) return reactions as Record<string, string[]> | undefined;
  const users = on ? [...current, userId] : current.filter((u) => u !== userId);
  const next: Record<string, string[]> = {};
  for (const [e, us] of Object.entries(reactions ?? {})) if (e !== emoji) next[e] = [...us];
  if (users.length > 0) next[emoji] = users;
  return Object.keys(next).length > 0 ? next : undefined;
}

function withoutReactions(m: StoredMessage): StoredMessage {
  const { reactions: _reactions, ...rest } = m;
  return rest;
}

/** A message with one edit, delete or reaction applied (its `rev` moves to the event's seq). */
function applyToMessage(m: StoredMessage, e: MessageEvent): StoredMessage {
  switch (e.kind) {
    case "edit":
      return { ...m, body: e.body, editedAt: e.sentAt, rev: e.seq };
    case "delete":
      return { ...withoutReactions(m), body: "", deleted: true, rev: e.seq };
    case "react": {
      const reactions = toggledReactions(m.reactions, e.emoji, e.senderId, e.on);
      return reactions ? { ...m, reactions, rev: e.seq } : { ...withoutReactions(m), rev: e.seq };
    }
  }
}

/**
 * Merges stored entries (live pushes, sync pages, history pages — in any order, with repeats) into the list, in
 * seq order. Delivery is at-least-once: a message already present is replaced only by a copy that includes
 * more of the log (a higher `rev`), an event at or below its target's `rev` is skipped, a system line's seq is
 * kept once. An event whose target is not loaded is dropped: that message comes in its current state when it is.
 * A kind this client does not know only moves `lastSeq`. An entry that is the user's own send or change replaces
 * its pending entry.
 */
export function mergeStored(list: MessageList, incoming: readonly StoredEntry[], selfId: string): MessageList {
  if (incoming.length === 0) return list;
  const sorted = [...incoming].sort((a, b) => a.seq - b.seq);
  let messages: Map<number, StoredMessage> | undefined;
  const byMessage = () => (messages ??= new Map(list.stored.map((m) => [m.seq, m])));
  const systemSeqs = new Set(list.system.map((e) => e.seq));
  const freshSystem: SystemEvent[] = [];
  let lastSeq = list.lastSeq;
  let firstSeq = list.firstSeq;
  const own = new Set<string>();
  for (const entry of sorted) {
    lastSeq = Math.max(lastSeq, entry.seq);
    firstSeq = firstSeq === undefined ? entry.seq : Math.min(firstSeq, entry.seq);
    if (entry.senderId === selfId) own.add(entry.clientMessageId);
    const kind: string = entry.kind ?? "message";
    if (kind === "message") {
      const m = entry as StoredMessage;
      const known = messages ? messages.get(m.seq) : findBySeq(list.stored, m.seq);
      if (known && revOf(m) <= revOf(known)) continue;
      byMessage().set(m.seq, m);
    } else if (messageKinds.has(kind)) {
      const e = entry as MessageEvent;
      const target = byMessage().get(e.target);
      if (!target || e.seq <= revOf(target)) continue;
      if (target.deleted && e.kind !== "delete") continue;
      const next = applyToMessage(target, e);
      const map = byMessage();
      map.set(target.seq, next);
      if (e.kind !== "react") {
        // Replies quote the message as of reading: follow its edit, or show that it is gone.
        for (const [seq, r] of map) {
          if (r.replyTo?.seq !== target.seq) continue;
          const replyTo =
            e.kind === "delete"
              ? { seq: r.replyTo.seq, senderId: r.replyTo.senderId, deleted: true as const }
              : { ...r.replyTo, preview: previewOf(e.body) };
          map.set(seq, { ...r, replyTo });
        }
      }
    } else if (systemKinds.has(kind)) {
      if (systemSeqs.has(entry.seq)) continue;
      systemSeqs.add(entry.seq);
      freshSystem.push(entry as SystemEvent);
    }
    // Any other kind is a newer server's: its seq is counted above, the entry itself is ignored.
  }
  const pending = own.size === 0 ? list.pending : list.pending.filter((p) => !own.has(p.clientMessageId));
  const changes = own.size === 0 ? list.changes : list.changes.filter((c) => !own.has(c.clientMessageId));
  const stored = messages ? [...messages.values()].sort((a, b) => a.seq - b.seq) : list.stored;
  const storedChanged = stored.length !== list.stored.length || stored.some((m, i) => m !== list.stored[i]);
  if (
    !storedChanged &&
    freshSystem.length === 0 &&
    lastSeq === list.lastSeq &&
    firstSeq === list.firstSeq &&
    pending.length === list.pending.length &&
    changes.length === list.changes.length
  ) {
    return list;
  }
  const system =
    freshSystem.length === 0 ? list.system : [...list.system, ...freshSystem].sort((a, b) => a.seq - b.seq);
  return { ...list, stored: storedChanged ? stored : list.stored, system, lastSeq, firstSeq, pending, changes };
}

function findBySeq(stored: readonly StoredMessage[], seq: number): StoredMessage | undefined {
  let lo = 0;
  let hi = stored.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = stored[mid]!.seq;
    if (s === seq) return stored[mid];
    if (s < seq) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}

/** An entry this client cannot read at all (a newer server's frame type): only its seq counts, for the cursor. */
export function noteSeq(list: MessageList, seq: number): MessageList {
  return seq > list.lastSeq ? { ...list, lastSeq: seq } : list;
}

/** Adds a history page fetched with `before=` (or the latest page) and records whether more exist. */
export function mergeHistoryPage(
  list: MessageList,
  page: readonly StoredEntry[],
  hasMore: boolean,
  selfId: string,
): MessageList {
  const merged = mergeStored(list, page, selfId);
  return { ...merged, historyLoaded: true, hasMoreBefore: hasMore };
}

export function addPending(
  list: MessageList,
  send: { clientMessageId: string; body: string; now: number; replyTo?: number },
): MessageList {
  if (list.pending.some((p) => p.clientMessageId === send.clientMessageId)) return list;
  const entry: PendingSend = {
    clientMessageId: send.clientMessageId,
    body: send.body,
    ...(send.replyTo === undefined ? {} : { replyTo: send.replyTo }),
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

function withoutError(p: PendingSend, status: SendStatus): PendingSend {
  const { error: _error, ...rest } = p;
  return { ...rest, status };
}

/**
 * The gateway has the message durably (SQS accepted it). An `accepted` for a send that is already stored
 * (the stored push won the race) or unknown is ignored.
 */
export function markAccepted(list: MessageList, clientMessageId: string): MessageList {
  const sent = updatePending(list, clientMessageId, (p) =>
    p.status === "accepted" ? undefined : withoutError(p, "accepted"),
  );
  if (sent !== list) return sent;
  const index = list.changes.findIndex((c) => c.clientMessageId === clientMessageId && c.status === "pending");
  if (index < 0) return list;
  const changes = list.changes.slice();
  changes[index] = { ...changes[index]!, status: "accepted" };
  return { ...list, changes };
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
  return updatePending(list, clientMessageId, (p) => (p.status === "failed" ? withoutError(p, "pending") : undefined));
}

export function addChange(list: MessageList, change: { frame: ChangeFrame; now: number }): MessageList {
  const { clientMessageId } = change.frame;
  if (list.changes.some((c) => c.clientMessageId === clientMessageId)) return list;
  const entry: PendingChange = { clientMessageId, frame: change.frame, status: "pending", queuedAt: change.now };
  return { ...list, changes: [...list.changes, entry] };
}

/** A change the server refused (or that got no answer): it no longer shows. */
export function dropChange(list: MessageList, clientMessageId: string): MessageList {
  const changes = list.changes.filter((c) => c.clientMessageId !== clientMessageId);
  return changes.length === list.changes.length ? list : { ...list, changes };
}

/** A message as the user sees it: with their own edits, deletes and reactions not stored yet applied on top. */
export function withChanges(m: StoredMessage, changes: readonly PendingChange[], selfId: string): StoredMessage {
  let shown = m;
  for (const { frame, queuedAt } of changes) {
    if (!("seq" in frame) || frame.seq !== m.seq || shown.deleted) continue;
    if (frame.type === "edit") shown = { ...shown, body: frame.body, editedAt: queuedAt };
    else if (frame.type === "delete") shown = { ...withoutReactions(shown), body: "", deleted: true };
    else if (frame.type === "react") {
      const reactions = toggledReactions(shown.reactions, frame.emoji, selfId, frame.on);
      shown = reactions ? { ...shown, reactions } : withoutReactions(shown);
    }
  }
  return shown;
}

/** Stored messages and system lines by seq, then the user's unstored sends in the order they were written. */
export function displayItems(list: MessageList, selfId = ""): DisplayItem[] {
  const items: DisplayItem[] = [];
  const { stored, system, changes } = list;
  let j = 0;
  for (const m of stored) {
    while (j < system.length && system[j]!.seq < m.seq) {
      const event = system[j++]!;
      items.push({ key: `e:${event.seq}`, kind: "system", status: "stored", event });
    }
    const message = changes.length === 0 ? m : withChanges(m, changes, selfId);
    items.push({ key: `s:${m.seq}`, kind: "stored", status: "stored", message });
  }
  for (; j < system.length; j++) {
    const event = system[j]!;
    items.push({ key: `e:${event.seq}`, kind: "system", status: "stored", event });
  }
  for (const send of list.pending) {
    items.push({ key: `p:${send.clientMessageId}`, kind: "pending", status: send.status, send });
  }
  return items;
}
