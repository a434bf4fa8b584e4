/**
 * The persister: an SQS batch from the inbound FIFO queue in, Lambda's partial batch response out.
 * Pure logic over injected clients and clock; runtime/persister/lambda.ts wires it for AWS and
 * runtime/local/runner.ts for the laptop.
 */
import type { SQSClient } from "@aws-sdk/client-sqs";
import {
  dedupeKeyOf,
  DEFAULT_EDIT_WINDOW_SECONDS,
  describeZodError,
  isInboundEvent,
  isStoredEvent,
  membersAfter,
  parseInboundEntry,
  queues,
  recipientsOf,
  refusalOf,
  targetOf,
  type InboundEntry,
  type Notification,
  type StoredEntry,
  type StoredMessage,
} from "../contracts";
import {
  DELETED_PREVIEW,
  getConversation,
  recordSummary,
  reviseConversation,
  type ConversationItem,
} from "../store/conversations";
import type { Db } from "../store/db";
import { findDedupe } from "../store/dedupe";
import { deleteMembership, putMembershipIfAbsent } from "../store/memberships";
import { eraseEditBodies, getMessage, quoteOf, reviseMessage } from "../store/messages";
import { previewOf } from "../contracts/api";
import { PoisonMessageError } from "./errors";
import { publishNotifications, type PendingNotification } from "./notify";
import { applyVisibilityChanges, visibilityChanges } from "./retry";
import type { SqsBatchResponse, SqsEvent, SqsRecord } from "./sqs-event";
import { storeMessageOnce, storedCopy } from "./store-message";

export interface PersisterLog {
  warn(fields: Record<string, unknown>, msg: string): void;
  error(fields: Record<string, unknown>, msg: string): void;
}

/** A conversation as this process last knew it, and the seq it was current at. */
export interface CachedConversation {
  readonly conversation: ConversationItem;
  readonly asOfSeq: number;
}

export interface PersisterDeps {
  readonly db: Db<"conversations" | "messages" | "dedupe" | "memberships">;
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
  /** How long after sending a message may be edited (default DEFAULT_EDIT_WINDOW_SECONDS). */
  readonly editWindowMs?: number;
  /**
   * Each conversation's last seq as this process stored it: saves reading the latest message on the hot path.
   * Safe when stale (FIFO groups can move between Lambda instances): the seq slot is claimed conditionally.
   */
  readonly lastSeqCache?: Map<string, number>;
  /**
   * Each conversation (members, creator) as of the seq this process last stored in it. Used only while that seq
   * is still the hint: the put at hint + 1 then proves no other process added an entry (a membership change)
   * since; when the slot moves, the entry is checked again on a fresh read before it is put.
   */
  readonly conversationCache?: Map<string, CachedConversation>;
}

const DEADLINE_MARGIN_MS = 2_000;
const CACHE_MAX = 50_000;

export function parseInbound(body: string): InboundEntry {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new PoisonMessageError("body is not JSON");
  }
  const parsed = parseInboundEntry(json);
  if (!parsed.success) {
    throw new PoisonMessageError(describeZodError(parsed.error, { root: "body", all: true }));
  }
  return parsed.data;
}

/** A record whose entry is in the table, and whether this batch sends its notification. */
interface StoredRecord {
  readonly record: SqsRecord;
  readonly dedupeKey: string;
  /** The stored entry as the notification carries it (a reply with its quote's preview). */
  readonly message: StoredEntry;
  readonly notify: boolean;
  /** Who the notification goes to. */
  readonly recipients: readonly string[];
  /** The conversation's members after the entry (membership entries only). */
  readonly members?: readonly string[];
  /** The newest message's preview, when this entry edited or deleted that message. */
  readonly preview?: string;
}

function remember<K, V>(cache: Map<K, V> | undefined, key: K, value: V): void {
  if (!cache) return;
  if (cache.size >= CACHE_MAX) cache.clear();
  cache.set(key, value);
}

/** The conversation as of now: cached while the hint says nobody else wrote, else read (consistently). */
async function conversationOf(deps: PersisterDeps, conversationId: string, hint: number | undefined) {
  const cached = deps.conversationCache?.get(conversationId);
  if (cached && hint !== undefined && cached.asOfSeq === hint)
    return { conversation: cached.conversation, fresh: false };
  return { conversation: await getConversation(deps.db, conversationId, true), fresh: true };
}

function refuse(
  entry: InboundEntry,
  deps: PersisterDeps,
  c: ConversationItem | undefined,
  target: StoredEntry | undefined,
) {
  const editWindowMs = deps.editWindowMs ?? DEFAULT_EDIT_WINDOW_SECONDS * 1000;
  return refusalOf(entry, c, target, { editWindowMs });
}

/** The stored copy of `entry`, if an earlier attempt stored it (its dedupe claim names a slot holding it). */
async function storedEarlier(deps: PersisterDeps, entry: InboundEntry): Promise<StoredEntry | undefined> {
  const claim = await findDedupe(deps.db, dedupeKeyOf(entry), deps.now());
  if (!claim) return undefined;
  const inSlot = await getMessage(deps.db, entry.conversationId, claim.seq);
  return inSlot?.senderId === entry.senderId && inSlot.clientMessageId === entry.clientMessageId ? inSlot : undefined;
}

/**
 * Stores the record's entry at its place in the conversation's order, after checking it there (entry-rules.ts:
 * refused → poison with the reason), then applies it (a change to its target message or to the conversation,
 * each once, so a retry repeats it harmlessly). It notifies unless another attempt does (StoreResult.storedBy).
 */
async function storeRecord(deps: PersisterDeps, record: SqsRecord): Promise<StoredRecord> {
  const entry = parseInbound(record.body);
  const cid = entry.conversationId;
  const hint = deps.lastSeqCache?.get(cid);
  let { conversation, fresh } = await conversationOf(deps, cid, hint);
  const targetSeq = targetOf(entry);
  // Consistent and current: FIFO order means every earlier entry of this conversation is done.
  const target = targetSeq !== undefined ? await getMessage(deps.db, cid, targetSeq) : undefined;
  let refusal = refuse(entry, deps, conversation, target);
  if (refusal && !fresh) {
    // A cached conversation can lack a member another process added since: only a fresh refusal counts.
    ({ conversation, fresh } = { conversation: await getConversation(deps.db, cid, true), fresh: true });
    refusal = refuse(entry, deps, conversation, target);
  }
  let stored: StoredEntry;
  let storedBy: "this" | "earlier" | "concurrent";
  if (refusal || !conversation) {
    // A retry whose entry was stored and applied before finds itself refused (a leave: no longer a member); it
    // goes on as stored. Anything else can never be stored.
    const earlier = conversation && (await storedEarlier(deps, entry));
    if (!earlier) throw new PoisonMessageError(`${refusal!.code}: ${refusal!.message}`);
    [stored, storedBy] = [earlier, "earlier"];
  } else {
    const storedAt = deps.now();
    const result = await storeMessageOnce(deps.db, entry, storedAt, {
      lastSeqHint: hint,
      copyAt: (seq) => storedCopy(entry, seq, storedAt, target?.senderId),
      beforeMovedPut: async () => {
        if (fresh) return;
        ({ conversation, fresh } = { conversation: await getConversation(deps.db, cid, true), fresh: true });
        const again = refuse(entry, deps, conversation, target);
        if (again) throw new PoisonMessageError(`${again.code}: ${again.message}`);
      },
    });
    [stored, storedBy] = [result.message, result.storedBy];
  }
  const applied = await applyEntry(deps, entry, stored, conversation!, target);
  if (storedBy === "this") {
    remember(deps.lastSeqCache, cid, stored.seq);
    remember(deps.conversationCache, cid, { conversation: applied.conversation, asOfSeq: stored.seq });
  }
  const redelivered = Number(record.attributes.ApproximateReceiveCount ?? "1") > 1;
  const notify = storedBy === "this" || (storedBy === "earlier" && redelivered);
  const message =
    !isStoredEvent(stored) && stored.replyTo ? { ...stored, replyTo: quoteOf(stored.replyTo, target) } : stored;
  return {
    record,
    dedupeKey: dedupeKeyOf(entry),
    message,
    notify,
    recipients: recipientsOf(entry, conversation!.memberIds),
    ...(applied.members ? { members: applied.members } : {}),
    ...(applied.preview !== undefined ? { preview: applied.preview } : {}),
  };
}

/**
 * What a stored entry changes besides its own slot, each write conditional on the item's `rev` being older than
 * the entry's seq (so a retry applies nothing twice): an edit, delete or reaction its target message; a
 * membership or title entry the conversation item and the members' rows. Answers the conversation after it.
 */
async function applyEntry(
  deps: PersisterDeps,
  entry: InboundEntry,
  stored: StoredEntry,
  conversation: ConversationItem,
  target: StoredEntry | undefined,
): Promise<{ conversation: ConversationItem; members?: string[]; preview?: string }> {
  if (!isInboundEvent(entry)) return { conversation };
  const { db } = deps;
  const cid = entry.conversationId;
  const seq = stored.seq;
  const message = target && !isStoredEvent(target) ? (target as StoredMessage) : undefined;
  const isNewest = message !== undefined && conversation.lastMessageSeq === message.seq;
  switch (entry.kind) {
    case "edit":
      await reviseMessage(db, cid, entry.target, seq, {
        set: { body: entry.body, editedAt: stored.storedAt },
        appendRev: "edits",
      });
      return { conversation, ...(isNewest ? { preview: previewOf(entry.body) } : {}) };
    case "delete":
      await reviseMessage(db, cid, entry.target, seq, { set: { body: "", deleted: true }, remove: ["reactions"] });
      await eraseEditBodies(db, cid, message?.edits ?? []);
      return { conversation, ...(isNewest ? { preview: DELETED_PREVIEW } : {}) };
    case "react": {
      const reactions = { ...(message?.reactions ?? {}) };
      const had = reactions[entry.emoji] ?? [];
      // A set per emoji, in the order people reacted: on when already on (or off when off) changes nothing.
      const users = entry.on
        ? had.includes(entry.senderId)
          ? had
          : [...had, entry.senderId]
        : had.filter((u) => u !== entry.senderId);
      if (users.length) reactions[entry.emoji] = users;
      else delete reactions[entry.emoji];
      const empty = Object.keys(reactions).length === 0;
      await reviseMessage(
        db,
        cid,
        entry.target,
        seq,
        empty ? { set: {}, remove: ["reactions"] } : { set: { reactions } },
      );
      return { conversation };
    }
    case "rename":
      await reviseConversation(db, cid, seq, { title: entry.title });
      return { conversation: { ...conversation, title: entry.title } };
    case "add":
    case "remove":
    case "leave": {
      const members = membersAfter(entry, conversation.memberIds);
      await reviseConversation(db, cid, seq, { memberIds: members });
      if (entry.kind === "add") {
        const added = entry.userIds.filter((u) => !conversation.memberIds.includes(u));
        await Promise.all(
          added.map((userId) =>
            putMembershipIfAbsent(db, { userId, conversationId: cid, joinedAt: stored.storedAt, lastReadSeq: seq }),
          ),
        );
      } else {
        await deleteMembership(db, entry.kind === "remove" ? entry.userId : entry.senderId, cid);
      }
      return { conversation: { ...conversation, memberIds: members }, members };
    }
  }
}

/**
 * One summary update per conversation per batch (a FIFO group is one conversation): the newest entry's seq, the
 * newest message's preview, or a new preview when the batch edited or deleted the newest message, and each
 * sender's highest seq.
 */
async function summarize(deps: PersisterDeps, stored: readonly StoredRecord[]): Promise<void> {
  const newest = stored.reduce((a, b) => (b.message.seq > a.message.seq ? b : a));
  const messages = stored.filter((s) => !isStoredEvent(s.message));
  const newestMessage = messages.length
    ? (messages.reduce((a, b) => (b.message.seq > a.message.seq ? b : a)).message as StoredMessage)
    : undefined;
  // An edit or delete of the newest message after it was stored (a later record in the batch) sets the preview.
  const fix = stored.filter((s) => s.preview !== undefined && s.message.seq > (newestMessage?.seq ?? 0)).at(-1);
  // Sending implies having read up to it (store/memberships.ts#readPositionOf).
  const senders: Record<string, number> = {};
  for (const { message } of stored) senders[message.senderId] = Math.max(senders[message.senderId] ?? 0, message.seq);
  await recordSummary(deps.db, {
    conversationId: newest.message.conversationId,
    lastSeq: newest.message.seq,
    ...(newestMessage ? { message: newestMessage } : {}),
    ...(fix ? { preview: fix.preview } : {}),
    senders,
  });
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
      try {
        await summarize(deps, stored);
      } catch (err) {
        // Stored, but the chat list does not show them yet: retried, they are found stored and summarized again.
        logFailure(deps, stored[0]!.record, err, false);
        for (const s of stored) failed.add(s.record.messageId);
        return;
      }
      for (const s of stored) {
        if (!s.notify || pending.has(s.dedupeKey)) continue;
        const notification: Notification = {
          v: 1,
          message: s.message,
          memberIds: [...s.recipients],
          ...(s.members ? { members: [...s.members] } : {}),
        };
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
