/**
 * The persister: an SQS batch from the inbound FIFO queue in, Lambda's partial batch response out.
 * Pure logic over injected clients and clock; runtime/persister/lambda.ts wires it for AWS and
 * runtime/local/runner.ts for the laptop.
 */
import type { SQSClient } from "@aws-sdk/client-sqs";
import {
  dedupeKeyOf,
  describeZodError,
  inboundMessageSchema,
  queues,
  type InboundMessage,
  type Notification,
  type StoredMessage,
} from "../contracts";
import { getConversation, recordStoredMessage, type ConversationItem } from "../store/conversations";
import type { Db } from "../store/db";
import { PoisonMessageError } from "./errors";
import { publishNotifications, type PendingNotification } from "./notify";
import { applyVisibilityChanges, visibilityChanges } from "./retry";
import type { SqsBatchResponse, SqsEvent, SqsRecord } from "./sqs-event";
import { storeMessageOnce } from "./store-message";

export interface PersisterLog {
  warn(fields: Record<string, unknown>, msg: string): void;
  error(fields: Record<string, unknown>, msg: string): void;
}

export interface PersisterDeps {
  readonly db: Db<"conversations" | "messages" | "dedupe">;
  readonly sqs: SQSClient;
  readonly notifyQueueUrl: string;
  /**
   * The queue the records come from. Given, failed records come back after a short backoff and poison ones are
   * burnt towards the DLQ at once (runtime/persister/retry.ts); without it they wait out the visibility timeout.
   */
  readonly inboundQueueUrl?: string;
  /** The inbound queue's redrive maxReceiveCount (default: the contract's). */
  readonly maxReceiveCount?: number;
  readonly now: () => number;
  readonly log: PersisterLog;
  /** Time left before the invocation is cut off; records are not started with less than the margin. */
  readonly remainingMs?: () => number;
  /**
   * Each conversation's last seq as this process stored it: saves reading the latest message on the hot path.
   * Safe when stale (FIFO groups can move between Lambda instances): the seq slot is claimed conditionally.
   */
  readonly lastSeqCache?: Map<string, number>;
  /** Member lists change rarely (never shrink); a short cache saves a read per message. */
  readonly membersCache?: Map<string, { memberIds: readonly string[]; until: number }>;
}

const DEADLINE_MARGIN_MS = 2_000;
const MEMBERS_TTL_MS = 30_000;
const LAST_SEQ_CACHE_MAX = 50_000;

export function parseInbound(body: string): InboundMessage {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new PoisonMessageError("body is not JSON");
  }
  const parsed = inboundMessageSchema.safeParse(json);
  if (!parsed.success) {
    throw new PoisonMessageError(describeZodError(parsed.error, { root: "body", all: true }));
  }
  return parsed.data;
}

async function membersOf(deps: PersisterDeps, conversationId: string, fresh: boolean): Promise<readonly string[]> {
  const now = deps.now();
  const hit = deps.membersCache?.get(conversationId);
  if (hit && hit.until > now && !fresh) return hit.memberIds;
  let c: ConversationItem | undefined = await getConversation(deps.db, conversationId, fresh);
  // An eventually consistent read can miss a conversation created a moment ago: only a consistent miss is poison.
  if (!c && !fresh) c = await getConversation(deps.db, conversationId, true);
  if (!c) throw new PoisonMessageError(`conversation ${conversationId} does not exist`);
  deps.membersCache?.set(conversationId, { memberIds: c.memberIds, until: now + MEMBERS_TTL_MS });
  return c.memberIds;
}

async function assertMember(deps: PersisterDeps, m: InboundMessage): Promise<void> {
  if ((await membersOf(deps, m.conversationId, false)).includes(m.senderId)) return;
  // A stale cache must not poison a message from a member who was just added.
  if (!(await membersOf(deps, m.conversationId, true)).includes(m.senderId)) {
    throw new PoisonMessageError(`${m.senderId} is not a member of ${m.conversationId}`);
  }
}

/** A record whose message is in the table, and whether this batch sends its notification. */
interface StoredRecord {
  readonly record: SqsRecord;
  readonly dedupeKey: string;
  readonly message: StoredMessage;
  readonly notify: boolean;
}

/** Stores the record's message; it notifies unless another attempt does (StoreResult.storedBy). */
async function storeRecord(deps: PersisterDeps, record: SqsRecord): Promise<StoredRecord> {
  const inbound = parseInbound(record.body);
  await assertMember(deps, inbound);
  const hint = deps.lastSeqCache?.get(inbound.conversationId);
  const { message, storedBy } = await storeMessageOnce(deps.db, inbound, deps.now(), hint);
  if (storedBy === "this" && deps.lastSeqCache) {
    if (deps.lastSeqCache.size >= LAST_SEQ_CACHE_MAX) deps.lastSeqCache.clear();
    deps.lastSeqCache.set(inbound.conversationId, message.seq);
  }
  const redelivered = Number(record.attributes.ApproximateReceiveCount ?? "1") > 1;
  const notify = storedBy === "this" || (storedBy === "earlier" && redelivered);
  return { record, dedupeKey: dedupeKeyOf(inbound), message, notify };
}

/**
 * One summary update per conversation per batch, with its newest stored message (a FIFO group is one
 * conversation); answers the members the notifications go to.
 */
async function summarize(deps: PersisterDeps, stored: readonly StoredRecord[]): Promise<readonly string[]> {
  const newest = stored.reduce((a, b) => (b.message.seq > a.message.seq ? b : a));
  return recordStoredMessage(deps.db, newest.message);
}

/** Records grouped by FIFO message group, each group in queue order. */
function groupsOf(records: readonly SqsRecord[]): SqsRecord[][] {
  const groups = new Map<string, SqsRecord[]>();
  for (const r of records) {
    const g = r.attributes.MessageGroupId ?? r.messageId;
    const list = groups.get(g);
    if (list) list.push(r);
    else groups.set(g, [r]);
  }
  return [...groups.values()];
}

function logFailure(deps: PersisterDeps, record: SqsRecord, err: unknown, poison: boolean): void {
  deps.log[poison ? "warn" : "error"](
    {
      messageId: record.messageId,
      group: record.attributes.MessageGroupId,
      receiveCount: Number(record.attributes.ApproximateReceiveCount),
      reason: (err as Error).message,
      poison,
    },
    poison ? "inbound record can never be stored; leaving it for the DLQ" : "inbound record failed; will retry",
  );
}

export async function persistBatch(event: SqsEvent, deps: PersisterDeps): Promise<SqsBatchResponse> {
  const failed = new Set<string>();
  const poisoned = new Set<string>();
  const groups = groupsOf(event.Records);
  // Keyed by client message: a resend in the same batch must not add a second notification.
  const pending = new Map<string, PendingNotification>();

  // Groups run concurrently; within a group, the first retryable failure fails everything after it (FIFO order).
  await Promise.all(
    groups.map(async (group) => {
      const stored: StoredRecord[] = [];
      for (let i = 0; i < group.length; i++) {
        const record = group[i]!;
        try {
          if (deps.remainingMs && deps.remainingMs() < DEADLINE_MARGIN_MS) throw new Error("invocation deadline near");
          stored.push(await storeRecord(deps, record));
        } catch (err) {
          const poison = err instanceof PoisonMessageError;
          logFailure(deps, record, err, poison);
          if (poison) {
            // It can never be stored, so it holds no place in the conversation's order: fail it alone (it
            // returns until maxReceiveCount moves it to the DLQ) and keep going. Failing the rest of the
            // group too would, in AWS, push the valid messages batched behind it into the DLQ with it.
            failed.add(record.messageId);
            poisoned.add(record.messageId);
            continue;
          }
          for (const rest of group.slice(i)) failed.add(rest.messageId);
          break;
        }
      }
      if (!stored.length) return;
      let memberIds: readonly string[];
      try {
        memberIds = await summarize(deps, stored);
      } catch (err) {
        // Stored, but the chat list does not show them yet: retried, they are found stored and summarized again.
        logFailure(deps, stored[0]!.record, err, false);
        for (const s of stored) failed.add(s.record.messageId);
        return;
      }
      for (const s of stored) {
        if (!s.notify || pending.has(s.dedupeKey)) continue;
        const notification: Notification = { v: 1, message: s.message, memberIds: [...memberIds] };
        pending.set(s.dedupeKey, { recordId: s.record.messageId, dedupeKey: s.dedupeKey, notification });
      }
    }),
  );

  const unsent = await publishNotifications(deps.sqs, deps.notifyQueueUrl, [...pending.values()]);
  if (unsent.size) {
    // A record whose notification was not sent is retried, and so is the rest of its group.
    for (const group of groups) {
      const first = group.findIndex((r) => unsent.has(r.messageId));
      if (first >= 0) for (const r of group.slice(first)) failed.add(r.messageId);
    }
  }
  if (deps.inboundQueueUrl && failed.size) {
    const changes = visibilityChanges(groups, failed, poisoned, deps.maxReceiveCount ?? queues.inbound.maxReceiveCount);
    if (changes.length) await applyVisibilityChanges(deps.sqs, deps.inboundQueueUrl, changes, deps.log);
  }
  return {
    batchItemFailures: event.Records.filter((r) => failed.has(r.messageId)).map((r) => ({
      itemIdentifier: r.messageId,
    })),
  };
}
