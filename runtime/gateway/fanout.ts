/**
 * The notification consumer: every gateway long-polls the notification queue (competing consumers), routes each
 * stored message to the live connections of its members, and deletes the notifications only after routing.
 * Delivery is at-least-once; sessions drop repeats by (conversationId, seq), and so do clients.
 */
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type Message } from "@aws-sdk/client-sqs";
import { notificationSchema, type Notification, type ServerFrame } from "../contracts";
import type { ConnectionItem } from "../store/connections";
import { advanceLastRead } from "../store/memberships";
import type { GatewayContext } from "./context";
import type { ConnectionDirectory } from "./directory";
import type { Presence } from "./presence";
import type { Outgoing, Router } from "./routing";
import { errorMessage, mapLimit, sleep } from "./util";

export class NotificationConsumer {
  private readonly abort = new AbortController();
  private stopping = false;
  private loops: Promise<void>[] = [];

  constructor(
    private readonly ctx: GatewayContext,
    private readonly directory: ConnectionDirectory,
    private readonly router: Router,
    private readonly presence?: Pick<Presence, "noteConversationMembers">,
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
        await this.handleBatch(messages);
      } catch (err) {
        // Not deleted: the notifications come back after the visibility timeout (then to the DLQ).
        this.ctx.log.error({ err: errorMessage(err), count: messages.length }, "notification batch failed");
        await sleep(500, signal);
      }
    }
  }

  async handleBatch(messages: readonly Message[]): Promise<void> {
    const valid: { sqs: Message; n: Notification }[] = [];
    for (const m of messages) {
      const parsed = safeParse(m.Body);
      if (parsed) valid.push({ sqs: m, n: parsed });
      // An unparseable notification is left alone: redelivery moves it to the DLQ, where the alarm fires.
      else this.ctx.log.error({ messageId: m.MessageId }, "invalid notification body");
    }
    if (!valid.length) return;
    // A member whose cached contacts predate this conversation would miss presence of its co-members.
    for (const { n } of valid) this.presence?.noteConversationMembers(n.message.conversationId, n.memberIds);
    const users = [...new Set(valid.flatMap((v) => v.n.memberIds))];
    const lists = await mapLimit(users, 16, (u) => this.directory.ofUser(u));
    const byUser = new Map<string, ConnectionItem[]>(users.map((u, i) => [u, lists[i]!]));
    const outgoing: Outgoing[] = valid.map(({ n }) => {
      const frame: ServerFrame = { type: "message", ...n.message };
      return {
        frame: JSON.stringify(frame),
        message: { conversationId: n.message.conversationId, seq: n.message.seq },
        connections: n.memberIds.flatMap((u) => byUser.get(u) ?? []),
      };
    });
    const stats = await this.router.routeToConnections(outgoing);
    this.ctx.log.debug(
      { messages: valid.map((v) => `${v.n.message.conversationId}#${v.n.message.seq}`), ...stats },
      "routed notifications",
    );
    // Sending a message means having read the conversation up to it (best effort: a hint, not a guarantee).
    const readUpTo = new Map<string, { senderId: string; conversationId: string; seq: number }>();
    for (const { n } of valid) {
      const key = `${n.message.senderId}|${n.message.conversationId}`;
      if ((readUpTo.get(key)?.seq ?? 0) < n.message.seq) readUpTo.set(key, n.message);
    }
    await mapLimit([...readUpTo.values()], 8, (m) =>
      advanceLastRead(this.ctx.db, m.senderId, m.conversationId, m.seq).catch(() => false),
    );
    await this.ctx.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: this.ctx.config.notifyQueueUrl,
        Entries: valid.map((v, i) => ({ Id: String(i), ReceiptHandle: v.sqs.ReceiptHandle! })),
      }),
    );
  }
}

function safeParse(body: string | undefined): Notification | undefined {
  if (!body) return undefined;
  try {
    const r = notificationSchema.safeParse(JSON.parse(body));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}
