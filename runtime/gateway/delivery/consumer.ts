/**
 * The first hop of the return path: every gateway long-polls the notification queue (competing consumers),
 * turns each batch of stored-message notifications into outgoing frames for the live connections of the
 * members, routes them (routing.ts), and deletes the notifications only after routing. Delivery is at-least-once;
 * outboxes drop repeats by (conversationId, seq), and so do clients. The receive loop is the shared queue-consumer
 * lifecycle (runtime/aws/queue-consumer.ts).
 */
import type { Message } from "@aws-sdk/client-sqs";
import { SQS_BATCH_MAX } from "../../aws/batches";
import { QueueConsumer } from "../../aws/queue-consumer";
import { notificationSchema, type Notification, type ServerFrame } from "../../contracts";
import { advanceLastRead } from "../../store/memberships";
import type { GatewayContext } from "../context";
import type { Contacts } from "../presence/contacts";
import { errorMessage, mapLimit } from "../util";
import type { ConnectionDirectory } from "./directory";
import type { Outgoing, Router } from "./routing";

export class NotificationConsumer {
  private readonly queue: QueueConsumer;

  constructor(
    private readonly ctx: GatewayContext,
    private readonly directory: ConnectionDirectory,
    private readonly router: Router,
    private readonly contacts?: Pick<Contacts, "noteConversationMembers">,
  ) {
    this.queue = new QueueConsumer({
      sqs: ctx.sqs,
      queueUrl: ctx.config.notifyQueueUrl,
      receivers: ctx.settings.notifyReceivers,
      maxMessages: SQS_BATCH_MAX,
      waitTimeSeconds: ctx.settings.notifyWaitSeconds,
      handle: (messages) => this.handleBatch(messages),
      onError: (err, phase, count) => {
        if (phase === "receive") ctx.log.warn({ err: errorMessage(err) }, "notification receive failed; retrying");
        // Not deleted: the notifications come back after the visibility timeout (then to the DLQ).
        else ctx.log.error({ err: errorMessage(err), count, phase }, "notification batch failed");
      },
    });
  }

  start(): void {
    this.queue.start();
  }

  /** Stops polling; receives in flight finish and their notifications are routed and deleted (queue-consumer.ts). */
  stop(): Promise<void> {
    return this.queue.stop();
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
