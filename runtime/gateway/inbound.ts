/**
 * The first hop of the forward path: a client's `send` becomes an InboundEntry on the inbound FIFO queue
 * (grouped by conversation, deduplicated by sender and clientMessageId), where the persister picks it up.
 *
 * Sends are batched without waiting for one: a send goes out at the end of the event-loop turn it arrived in,
 * with every other send that arrived in the same turn (SendMessageBatch, up to 10 entries and BATCH_BYTES_MAX).
 * An idle gateway sends each message at once; a busy one reads many frames per turn and sends them together.
 * Order is kept: a session handles its frames one after another, so a sender's next message is only read once
 * the previous one was accepted, and SQS keeps a batch's entries of one group in their order.
 */
import { SendMessageBatchCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { chunks, SQS_BATCH_MAX } from "../aws/batches";
import { inboundDeduplicationId } from "../aws/dedup-id";
import { permanentSqsRefusal } from "../aws/errors";
import { encodeQueueBody, type InboundEntry } from "../contracts";
import type { GatewayContext } from "./context";
import { FrameError } from "./frames";
import { errorMessage } from "./util";

/** SQS refuses a batch whose messages add up to more than 256 KiB; stay well under it. */
export const BATCH_BYTES_MAX = 200 * 1024;

interface Pending {
  readonly message: InboundEntry;
  readonly body: string;
  readonly bytes: number;
  readonly connectionId: string;
  readonly resolve: () => void;
  readonly reject: (err: FrameError) => void;
}

export class InboundSender {
  private pending: Pending[] = [];
  private scheduled = false;

  constructor(private readonly ctx: Pick<GatewayContext, "sqs" | "config" | "log">) {}

  /**
   * Resolves once SQS has the message — only then may the client be told `accepted`. Rejects with the FrameError
   * the client is answered with: VALIDATION when the queue refuses what the message contains, else UNAVAILABLE.
   */
  enqueue(message: InboundEntry, connectionId: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const body = encodeQueueBody(message);
      this.pending.push({ message, body, bytes: Buffer.byteLength(body), connectionId, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    this.scheduled = false;
    const all = this.pending;
    this.pending = [];
    for (const batch of batchesOf(all)) void this.send(batch);
  }

  private async send(batch: readonly Pending[]): Promise<void> {
    const { inboundQueueUrl } = this.ctx.config;
    const entry = (p: Pending) => ({
      MessageBody: p.body,
      MessageGroupId: p.message.conversationId,
      MessageDeduplicationId: inboundDeduplicationId(p.message),
    });
    try {
      if (batch.length === 1) {
        await this.ctx.sqs.send(new SendMessageCommand({ QueueUrl: inboundQueueUrl, ...entry(batch[0]!) }));
        batch[0]!.resolve();
        return;
      }
      const out = await this.ctx.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: inboundQueueUrl,
          Entries: batch.map((p, i) => ({ Id: String(i), ...entry(p) })),
        }),
      );
      const failed = new Map((out.Failed ?? []).map((f) => [Number(f.Id), f]));
      const sent = new Set((out.Successful ?? []).map((s) => Number(s.Id)));
      batch.forEach((p, i) => {
        const f = failed.get(i);
        if (sent.has(i) && !f) return p.resolve();
        // SenderFault: the entry itself was refused (a 4xx for that message); else the service failed it.
        const err = f
          ? Object.assign(new Error(f.Message ?? "refused"), {
              name: f.Code ?? "Unknown",
              $metadata: { httpStatusCode: f.SenderFault ? 400 : 500 },
            })
          : new Error("SendMessageBatch answered neither success nor failure for this entry");
        p.reject(this.refusal(err, p.connectionId));
      });
    } catch (err) {
      for (const p of batch) p.reject(this.refusal(err, p.connectionId));
    }
  }

  private refusal(err: unknown, connectionId: string): FrameError {
    this.ctx.log.warn({ err: errorMessage(err), connectionId }, "inbound enqueue failed");
    // Refused for what it contains: a resend is refused again, so the client must not be told to resend.
    const refusal = permanentSqsRefusal(err);
    if (refusal)
      return new FrameError("VALIDATION", `the queue refused this message (${refusal}); do not resend it as is`);
    // Never a false `accepted`: the client keeps the message and resends it with the same clientMessageId.
    return new FrameError("UNAVAILABLE", "the message was not accepted; resend it");
  }
}

/** Consecutive runs of at most SQS_BATCH_MAX entries and BATCH_BYTES_MAX bytes (a larger single one goes alone). */
function batchesOf(all: readonly Pending[]): Pending[][] {
  const out: Pending[][] = [];
  let current: Pending[] = [];
  let bytes = 0;
  for (const p of all) {
    if (current.length && bytes + p.bytes > BATCH_BYTES_MAX) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(p);
    bytes += p.bytes;
  }
  if (current.length) out.push(current);
  return out.flatMap((run) => chunks(run, SQS_BATCH_MAX));
}
