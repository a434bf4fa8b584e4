/**
 * Exactly-once, gap-free storage of one inbound message without transactions.
 *
 * The messages table is the sequencer: the next seq is the latest stored seq + 1, taken with a conditional put
 * ("slot free"), so two writers can never both have a slot and no slot is skipped. The dedupe record
 * (conversation, sender, clientMessageId) → seq is claimed *before* the message is put, and a copy is only ever
 * put at the slot its claim names. So every stored copy is named by its claim, and a second copy can only be
 * attempted at that same slot, where the conditional put refuses it. The normal path is two writes and no read:
 * claim at the process's last seq + 1 (the hint), put there.
 *
 * An existing claim says the message was, or is being, stored at its slot:
 *   - the slot holds our copy: stored earlier (a resend, a redelivery), or by an attempt running right now;
 *   - the slot is free: the claimant stopped between claim and put (crash, deadline), or is about to put —
 *     we put it there ourselves; whichever put loses finds our copy in the slot;
 *   - the slot holds someone else's message: the claim is stale (a stale hint whose put failed, or a record that
 *     went to the DLQ between claim and put) — it is moved to the next free slot, conditionally on still naming
 *     the old one, so two attempts cannot both move it.
 * A crash between any two writes is repaired by the retry, which finds the claim and goes on from there (FIFO:
 * nothing in this group is stored after it until it succeeds or is dead-lettered).
 */
import { dedupeKeyOf, type InboundEntry, type StoredEntry } from "../contracts";
import type { Db } from "../store/db";
import { claimDedupe, moveDedupe } from "../store/dedupe";
import { getMessage, latestMessage, putMessageIfSlotFree } from "../store/messages";
import { SeqContentionError } from "./errors";

const MAX_SLOT_ATTEMPTS = 5;

export interface StoreResult {
  readonly message: StoredEntry;
  /**
   * - `this`: this attempt stored it, or finished what a stopped one began (which had not notified); it notifies.
   * - `earlier`: found already stored — an earlier record finished storing it. A record of its own that comes
   *   back (receive count > 1) may have stopped between storing and notifying, so it notifies again (clients drop
   *   the repeat by seq). A resend, a later record of the same FIFO group, is only received once the one that
   *   stored the message finished — notified, or in the DLQ — so it does not.
   * - `concurrent`: an attempt running right now stored it (our put lost the slot to our own copy), and notifies.
   */
  readonly storedBy: "this" | "earlier" | "concurrent";
}

const isCopyOf = (m: StoredEntry | undefined, inbound: InboundEntry): m is StoredEntry =>
  m?.senderId === inbound.senderId && m.clientMessageId === inbound.clientMessageId;

/**
 * `lastSeqHint` is the conversation's last seq as this process last stored it. Without it the latest message is
 * read first; with it the claim names hint + 1 straight away, and a stale hint costs a failed put and a moved
 * claim. A stale hint also means another process stored entries since this one last did: `beforeMovedPut` runs
 * before a copy is put anywhere but hint + 1 (the persister re-checks, on fresh state, what it checked on cached).
 */
export interface StoreOptions {
  readonly lastSeqHint?: number;
  /** The copy to put at a seq (default: the inbound entry as is, with its seq and `now`). */
  readonly copyAt?: (seq: number) => StoredEntry;
  readonly beforeMovedPut?: () => Promise<void>;
}

export async function storeMessageOnce(
  db: Db<"messages" | "dedupe">,
  inbound: InboundEntry,
  now: number,
  { lastSeqHint, copyAt = (seq) => storedCopy(inbound, seq, now), beforeMovedPut }: StoreOptions = {},
): Promise<StoreResult> {
  const dedupeKey = dedupeKeyOf(inbound);
  const nextSlot = async () => ((await latestMessage(db, inbound.conversationId))?.seq ?? 0) + 1;

  const claim = await claimDedupe(db, dedupeKey, lastSeqHint !== undefined ? lastSeqHint + 1 : await nextSlot(), now);
  let seq = claim.seq;
  // Whether the slot `seq` was ours to fill from the start (we made the claim) or inherited from another attempt.
  let claimedHere = claim.claimed;
  for (let attempt = 1; attempt <= MAX_SLOT_ATTEMPTS; attempt++) {
    if (lastSeqHint !== undefined && seq !== lastSeqHint + 1) await beforeMovedPut?.();
    const copy = copyAt(seq);
    if (await putMessageIfSlotFree(db, copy)) return { message: copy, storedBy: "this" };
    const inSlot = await getMessage(db, inbound.conversationId, seq);
    if (isCopyOf(inSlot, inbound)) {
      // Claimed here: another attempt found our claim and put first. Inherited on the first look: an earlier
      // attempt stored it (or one running now; the two cannot be told apart, and both count as earlier).
      const storedBy = !claimedHere && attempt === 1 ? "earlier" : "concurrent";
      return { message: inSlot, storedBy };
    }
    // Someone else's message: the claim is stale. Move it to the next free slot, unless another attempt did.
    const next = await nextSlot();
    const moved = await moveDedupe(db, dedupeKey, seq, next, now);
    seq = moved.seq;
    claimedHere = moved.moved;
  }
  throw new SeqContentionError(inbound.conversationId, MAX_SLOT_ATTEMPTS);
}

/**
 * The entry as the messages table keeps it at `seq`, without the queue's version: a reply keeps its quote's seq
 * and sender (`quotedSender`), never its text, so deleting the quoted message erases the quote too.
 */
export function storedCopy(inbound: InboundEntry, seq: number, storedAt: number, quotedSender?: string): StoredEntry {
  const { v: _v, ...rest } = inbound;
  void _v;
  if (rest.kind === undefined || rest.kind === "message") {
    const { replyTo, ...message } = rest;
    return {
      ...message,
      seq,
      storedAt,
      ...(replyTo !== undefined && quotedSender ? { replyTo: { seq: replyTo, senderId: quotedSender } } : {}),
    };
  }
  return { ...rest, seq, storedAt } as StoredEntry;
}
