/**
 * The first hop of the forward path: a client's `send` becomes an InboundMessage on the inbound FIFO queue
 * (grouped by conversation, deduplicated by sender and clientMessageId), where the persister picks it up.
 */
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { inboundDeduplicationId } from "../aws/dedup-id";
import { encodeQueueBody, type InboundMessage } from "../contracts";
import { permanentSqsRefusal } from "../aws/errors";
import type { GatewayContext } from "./context";
import { FrameError } from "./frames";
import { errorMessage } from "./util";

/**
 * Resolves once SQS has the message — only then may the client be told `accepted`. Throws a FrameError the
 * client is answered with: VALIDATION when the queue refuses what the message contains, else UNAVAILABLE.
 */
export async function enqueueForPersister(
  ctx: GatewayContext,
  message: InboundMessage,
  connectionId: string,
): Promise<void> {
  try {
    await ctx.sqs.send(
      new SendMessageCommand({
        QueueUrl: ctx.config.inboundQueueUrl,
        MessageBody: encodeQueueBody(message),
        MessageGroupId: message.conversationId,
        MessageDeduplicationId: inboundDeduplicationId(message),
      }),
    );
  } catch (err) {
    ctx.log.warn({ err: errorMessage(err), connectionId }, "inbound enqueue failed");
    // Refused for what it contains: a resend is refused again, so the client must not be told to resend.
    const refusal = permanentSqsRefusal(err);
    if (refusal)
      throw new FrameError("VALIDATION", `the queue refused this message (${refusal}); do not resend it as is`);
    // Never a false `accepted`: the client keeps the message and resends it with the same clientMessageId.
    throw new FrameError("UNAVAILABLE", "the message was not accepted; resend it");
  }
}
