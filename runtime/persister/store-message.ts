/**
 * Exactly-once, gap-free storage of one inbound message without transactions.
 *
 * The messages table is the sequencer: the next seq is the latest stored seq + 1, claimed with a conditional
 * put. The dedupe record (conversation, sender, clientMessageId) → seq is written after the message, so a
 * crash between any two writes is repaired by the retry:
 *   - crash before the message put: nothing stored; the retry starts over.
 *   - crash after the message put, before the dedupe record: the retry finds its own message as the latest
 *     one and finishes the dedupe record instead of storing a second copy (FIFO: nothing in this group can be
 *     stored after it until it succeeds).
 *   - crash after the dedupe record: the retry finds the record and only repeats the summary + notification.
 * A concurrent duplicate (visibility timeout shorter than processing) loses the dedupe claim and deletes the
 * copy it just wrote, which is still the newest message of the conversation.
 * The record's `notified` flag (set after the notification is sent) keeps resends and redeliveries from
 * notifying twice; only a crash between the send and the flag repeats a notification (clients dedupe by seq).
 */
import { dedupeKeyOf, type InboundMessage, type StoredMessage } from "../contracts";
import type { Db } from "../store/db";
import { claimDedupe, findDedupe } from "../store/dedupe";
import { deleteMessageIfOwned, getMessage, latestMessage, putMessageIfSlotFree } from "../store/messages";
import { SeqContentionError } from "./errors";

const MAX_SLOT_ATTEMPTS = 5;

export interface StoreResult {
  readonly message: StoredMessage;
  /** False when this was a retry or resend of a message already stored. */
  readonly fresh: boolean;
  /** A notification for it was already sent. */
  readonly notified: boolean;
}

async function storedAt(db: Db<"messages">, conversationId: string, seq: number): Promise<StoredMessage> {
  const m = await getMessage(db, conversationId, seq);
  if (!m) throw new Error(`dedupe record points at ${conversationId}#${seq}, which is missing`);
  return m;
}

/**
 * `lastSeqHint` is the conversation's last seq as this process last stored it. When given, the first attempt
 * skips reading the latest message: a stale hint only costs a failed conditional put, after which the latest
 * message is read as usual (which also finds a copy of ours left by a crashed attempt).
 */
export async function storeMessageOnce(
  db: Db<"messages" | "dedupe">,
  inbound: InboundMessage,
  now: number,
  lastSeqHint?: number,
): Promise<StoreResult> {
  const dedupeKey = dedupeKeyOf(inbound);
  const known = await findDedupe(db, dedupeKey, now);
  if (known) {
    return { message: await storedAt(db, inbound.conversationId, known.seq), fresh: false, notified: known.notified };
  }

  for (let attempt = 1; attempt <= MAX_SLOT_ATTEMPTS; attempt++) {
    const latest =
      attempt === 1 && lastSeqHint !== undefined ? undefined : await latestMessage(db, inbound.conversationId);
    const lastSeq = latest?.seq ?? (attempt === 1 ? (lastSeqHint ?? 0) : 0);
    const isOurs = latest?.senderId === inbound.senderId && latest.clientMessageId === inbound.clientMessageId;
    const message: StoredMessage = isOurs
      ? latest
      : {
          conversationId: inbound.conversationId,
          seq: lastSeq + 1,
          senderId: inbound.senderId,
          clientMessageId: inbound.clientMessageId,
          body: inbound.body,
          sentAt: inbound.sentAt,
          storedAt: now,
        };
    if (!isOurs && !(await putMessageIfSlotFree(db, message))) continue;

    const claim = await claimDedupe(db, dedupeKey, message.seq, now);
    if (claim.claimed || claim.seq === message.seq) return { message, fresh: !isOurs, notified: false };
    await deleteMessageIfOwned(db, message);
    // The winner of the claim sends the notification.
    return { message: await storedAt(db, inbound.conversationId, claim.seq), fresh: false, notified: true };
  }
  throw new SeqContentionError(inbound.conversationId, MAX_SLOT_ATTEMPTS);
}
