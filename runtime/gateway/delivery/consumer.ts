/**
 * The first hop of the return path: every gateway long-polls the notification queue (competing consumers),
 * turns each batch of stored-message notifications into outgoing frames for the live connections of the
 * members, routes them (routing.ts), and deletes the notifications only after routing. Delivery is
 * at-least-once; outboxes drop repeats by (conversationId, seq), and so do clients.
 */
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type Message } from "@aws-sdk/client-sqs";
import { notificationSchema, type Notification, type ServerFrame } from "../../contracts";
import { advanceLastRead } from "../../store/memberships";
import type { GatewayContext } from "../context";
import type { Contacts } from "../presence/contacts";
import { errorMessage, mapLimit, sleep } from "../util";
import type { ConnectionDirectory } from "./directory";
import type { Outgoing, Router } from "./routing";

export class NotificationConsumer {
  private readonly abort = new AbortController();
  private stopping = false;
  private loops: Promise<void>[] = [];

  constructor(
    private readonly ctx: GatewayContext,
    private readonly directory: ConnectionDirectory,
    private readonly router: Router,
    private readonly contacts?: Pick<Contacts, "noteConversationMembers">,
  ) {}

  start(): void {
    for (let i = 0; i < this.ctx.settings.notifyReceivers; i++) this.loops.push(this.poll());
  }

  /**
   * Stops polling. The receives in flight are allowed to finish (at most notifyWaitSeconds) and their messages are
   * routed and deleted: aborting a long poll can leave SQS handing messages to a closed connection, where they
   * stay invisible for the visibility timeout. Only if that takes too long are the receives aborted.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    const all = Promise.allSettled(this.loops);
    const grace = new Promise((r) => setTimeout(r, this.ctx.settings.notifyWaitSeconds * 1000 + 1_500).unref());
    await Promise.race([all, grace]);
    this.abort.abort();
    await all;
  }

  private async poll(): Promise<void> {
    const signal = this.abort.signal;
    while (!this.stopping && !signal.aborted) {
      let messages: Message[];
      try {
        const out = await this.ctx.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: this.ctx.config.notifyQueueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: this.ctx.settings.notifyWaitSeconds,
          }),
          { abortSignal: signal },
        );
        messages = out.Messages ?? [];
      } catch (err) {
        if (signal.aborted) break;
        this.ctx.log.warn({ err: errorMessage(err) }, "notification receive failed; retrying");
        await sleep(1_000, signal);
        continue;
      }
      if (!messages.length) continue;
      try {
        const handled = await this.handleBatch(messages);
        if (handled.length) await this.deleteHandled(handled);
      } catch (err) {
        // Not deleted: the notifications come back after the visibility timeout (then to the DLQ).
        this.ctx.log.error({ err: errorMessage(err), count: messages.length }, "notification batch failed");
        await sleep(500, signal);
      }
    }
  }

  /**
   * Everything a batch needs but its deletion: routes the valid notifications and answers their messages, the
   * ones to delete. An unparseable notification is left alone: redelivery moves it to the DLQ, where the alarm
   * fires.
   */
  async handleBatch(messages: readonly Message[]): Promise<Message[]> {
    const valid: { sqs: Message; n: Notification }[] = [];
    for (const m of messages) {
      const parsed = parseNotification(m.Body);
      if (parsed) valid.push({ sqs: m, n: parsed });
      else this.ctx.log.error({ messageId: m.MessageId }, "invalid notification body");
    }
    if (!valid.length) return [];
    const notifications = valid.map((v) => v.n);
    // A member whose cached contacts predate this conversation would miss presence of its co-members.
    for (const n of notifications) this.contacts?.noteConversationMembers(n.message.conversationId, n.memberIds);
    const stats = await this.router.routeToConnections(await this.toOutgoing(notifications));
    this.ctx.log.debug(
      { messages: notifications.map((n) => `${n.message.conversationId}#${n.message.seq}`), ...stats },
      "routed notifications",
    );
    await advanceSenderReadPositions(this.ctx, notifications);
    return valid.map((v) => v.sqs);
  }

  /** One frame per notification, serialized once, addressed to the live connections of its members. */
  private async toOutgoing(notifications: readonly Notification[]): Promise<Outgoing[]> {
    const byUser = await this.directory.byUser(notifications.flatMap((n) => n.memberIds));
    return notifications.map((n) => {
      const frame: ServerFrame = { type: "message", ...n.message };
      return {
        frame: JSON.stringify(frame),
        message: { conversationId: n.message.conversationId, seq: n.message.seq },
        connections: n.memberIds.flatMap((u) => byUser.get(u) ?? []),
      };
    });
  }

  private async deleteHandled(handled: readonly Message[]): Promise<void> {
    await this.ctx.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: this.ctx.config.notifyQueueUrl,
        Entries: handled.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
      }),
    );
  }
}

/**
 * Sending a message means having read the conversation up to it: each sender's read position moves to the
 * highest seq it sent in the batch (best effort: a hint, not a guarantee, so failures are ignored).
 */
export async function advanceSenderReadPositions(
  ctx: Pick<GatewayContext, "db">,
  notifications: readonly Notification[],
): Promise<void> {
  const readUpTo = new Map<string, { senderId: string; conversationId: string; seq: number }>();
  for (const { message } of notifications) {
    const key = `${message.senderId}|${message.conversationId}`;
    if ((readUpTo.get(key)?.seq ?? 0) < message.seq) readUpTo.set(key, message);
  }
  await mapLimit([...readUpTo.values()], 8, (m) =>
    advanceLastRead(ctx.db, m.senderId, m.conversationId, m.seq).catch(() => false),
  );
}

function parseNotification(body: string | undefined): Notification | undefined {
  if (!body) return undefined;
  try {
    const r = notificationSchema.safeParse(JSON.parse(body));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}
