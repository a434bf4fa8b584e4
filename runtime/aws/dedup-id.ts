/**
 * The inbound FIFO queue's MessageDeduplicationId: SQS drops a resend of the same client message within its
 * 5-minute window. It lives at the AWS edge, not in runtime/contracts, because the digest needs node:crypto and
 * the contracts are shared with the browser bundle.
 */
import { createHash } from "node:crypto";
import { dedupeKeyOf, type InboundMessage } from "../contracts";

/** The digest of the message's dedupe key: the raw key can exceed SQS's 128-character limit; a digest always fits. */
export function inboundDeduplicationId(
  m: Pick<InboundMessage, "conversationId" | "senderId" | "clientMessageId">,
): string {
  return createHash("sha256").update(dedupeKeyOf(m)).digest("hex");
}
