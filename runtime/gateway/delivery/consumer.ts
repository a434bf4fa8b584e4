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
import {
  conversationEventKinds,
  entryFrame,
  isStoredEvent,
  notificationSchema,
  type Notification,
  type ServerFrame,
} from "../../contracts";
import type { GatewayContext } from "../context";
import type { Contacts } from "../presence/contacts";
import { errorMessage } from "../util";
import type { PeerList } from "../presence/registry";
import type { ConnectionDirectory, MemberCache } from "./directory";
import type { PeerClient } from "./peer";
import type { Outgoing, Router } from "./routing";

/** What a membership entry's invalidation needs: the local member cache and the way to the peers. */
export interface MembershipDeps {
  readonly members: Pick<MemberCache, "forget" | "confirm">;
  readonly peers: Pick<PeerList, "refreshPeers">;
  readonly peerClient: Pick<PeerClient, "invalidatePeers">;
}

const isConversationEvent = (kind: string): boolean => (conversationEventKinds as readonly string[]).includes(kind);

export class NotificationConsumer {
  private readonly queue: QueueConsumer;

  constructor(
    private readonly ctx: GatewayContext,
    private readonly directory: ConnectionDirectory,
    private readonly router: Router,
    private readonly contacts?: Pick<Contacts, "noteConversationMembers" | "forget">,
    private readonly membership?: MembershipDeps,
  ) {
    this.queue = new QueueConsumer({
      sqs: ctx.sqs,
      pollSqs: ctx.pollSqs,
      queueUrl: ctx.config.notifyQueueUrl,
      receivers: ctx.settings.notifyReceivers,
      handlersInFlight: ctx.settings.notifyBatchesInFlight,
      maxMessages: SQS_BATCH_MAX,
      waitTimeSeconds: ctx.settings.notifyWaitSeconds,
      deleteWithinMs: ctx.settings.notifyDeleteWithinMs,
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
  async stop(): Promise<void> {
    await this.queue.stop();
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
    await this.membershipChanged(notifications);
    this.confirmMembers(notifications);
    const stats = await this.router.routeToConnections(await this.toOutgoing(notifications));
    this.ctx.log.debug(
      { messages: notifications.map((n) => `${n.message.conversationId}#${n.message.seq}`), ...stats },
      "routed notifications",
    );
    return valid.map((v) => v.sqs);
  }

  /**
   * Before a membership or title entry reaches anyone, every gateway forgets the conversation's cached members
   * (and the co-members of the users it names): a removed member is refused everywhere once told of the removal.
   * Best effort across gateways, bounded by the member cache's TTL.
   */
  private async membershipChanged(notifications: readonly Notification[]): Promise<void> {
    const changed = notifications.filter((n) => isStoredEvent(n.message) && isConversationEvent(n.message.kind));
    if (!changed.length || !this.membership) return;
    const conversations = [...new Set(changed.map((n) => n.message.conversationId))];
    const users = [...new Set(changed.flatMap((n) => n.memberIds))];
    this.membership.members.forget(conversations);
    this.contacts?.forget(users);
    try {
      const peers = await this.membership.peers.refreshPeers();
      await this.membership.peerClient.invalidatePeers(peers, { conversations, contacts: users });
    } catch (err) {
      this.ctx.log.warn({ err: errorMessage(err), conversations }, "membership invalidation failed");
    }
  }

  /** Every other entry names the conversation's members as of it: the member cache is renewed or dropped by it. */
  private confirmMembers(notifications: readonly Notification[]): void {
    if (!this.membership) return;
    for (const { message, memberIds } of notifications) {
      if (isStoredEvent(message) && isConversationEvent(message.kind)) continue;
      this.membership.members.confirm(message.conversationId, message.seq, message.storedAt, memberIds);
    }
  }

  /** One frame per notification, serialized once, addressed to the live connections of its members. */
  private async toOutgoing(notifications: readonly Notification[]): Promise<Outgoing[]> {
    const byUser = await this.directory.byUser(notifications.flatMap((n) => n.memberIds));
    return notifications.map((n) => {
      const frame: ServerFrame = entryFrame(n.message);
      return {
        frame: JSON.stringify(frame),
        message: { conversationId: n.message.conversationId, seq: n.message.seq },
        connections: n.memberIds.flatMap((u) => byUser.get(u) ?? []),
      };
    });
  }
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
