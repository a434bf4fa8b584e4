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
 * A concurrent duplicate (visibility timeout shorter than processing) must never put a second copy above
 * messages stored after the first one: those were stored only after the first copy's dedupe record (FIFO: a
 * group's next message is processed only once this one is stored and claimed). So every put follows a dedupe
 * check made after the latest message was read — if the latest is not ours, either nothing of ours is stored
 * yet, or its dedupe record already exists and the check finds it. Two attempts can then only race for the
 * same slot, and the conditional put lets one of them have it; the loser finds it as "ours".
 * Who notifies needs no write either (see `StoreResult.storedBy`): FIFO order says whether the attempt that
 * stored a message has finished.
 */
import { dedupeKeyOf, type InboundMessage, type StoredMessage } from "../contracts";
import type { Db } from "../store/db";
import { claimDedupe, findDedupe } from "../store/dedupe";
import { deleteMessageIfOwned, getMessage, latestMessage, putMessageIfSlotFree } from "../store/messages";
import { SeqContentionError } from "./errors";

const MAX_SLOT_ATTEMPTS = 5;

export interface StoreResult {
  readonly message: StoredMessage;
  /**
   * - `this`: this attempt stored it, or finished what a crashed one began (which had not notified); it notifies.
   * - `earlier`: found already stored on the first look — an earlier record finished storing it. A record of
   *   its own that comes back (receive count > 1) may have stopped between storing and notifying, so it
   *   notifies again (clients drop the repeat by seq). A resend, a later record of the same FIFO group, is only
   *   received once the one that stored the message finished — notified, or in the DLQ — so it does not.
   * - `concurrent`: found after losing a slot — an attempt running right now stored it, and notifies.
   */
  readonly storedBy: "this" | "earlier" | "concurrent";
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
  const alreadyStored = async (attempt: number): Promise<StoreResult | undefined> => {
    const known = await findDedupe(db, dedupeKey, now);
    if (!known) return undefined;
    const message = await storedAt(db, inbound.conversationId, known.seq);
    return { message, storedBy: attempt > 1 ? "concurrent" : "earlier" };
  };

  for (let attempt = 1; attempt <= MAX_SLOT_ATTEMPTS; attempt++) {
    // With a hint, the first attempt puts at hint + 1 without reading the latest: that slot is free only if
    // nothing was stored after this process's own last message, which no copy of ours can be above.
    const useHint = attempt === 1 && lastSeqHint !== undefined;
    const latest = useHint ? undefined : await latestMessage(db, inbound.conversationId);
    const isOurs = latest?.senderId === inbound.senderId && latest.clientMessageId === inbound.clientMessageId;
    if (!isOurs) {
      const known = await alreadyStored(attempt);
      if (known) return known;
    }
    const message: StoredMessage = isOurs
      ? latest
      : {
          conversationId: inbound.conversationId,
          seq: (useHint ? lastSeqHint : (latest?.seq ?? 0)) + 1,
          senderId: inbound.senderId,
          clientMessageId: inbound.clientMessageId,
          body: inbound.body,
          sentAt: inbound.sentAt,
          storedAt: now,
        };
    if (!isOurs && !(await putMessageIfSlotFree(db, message))) continue;

    const claim = await claimDedupe(db, dedupeKey, message.seq, now);
    if (claim.claimed || claim.seq === message.seq) return { message, storedBy: "this" };
    // Unreachable while the invariant above holds; if it ever breaks, a copy that is still the newest message
    // is the only one that can go without leaving a hole, and deleteMessageIfOwned removes nothing else's.
    await deleteMessageIfOwned(db, message);
    return { message: await storedAt(db, inbound.conversationId, claim.seq), storedBy: "concurrent" };
  }
  throw new SeqContentionError(inbound.conversationId, MAX_SLOT_ATTEMPTS);
}
