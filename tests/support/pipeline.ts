/**
 * Test support for the write-ahead pipeline: enqueue inbound messages the way a gateway does, count what the
 * persister stored (suites wait on it with timing.ts), and audit what was stored per conversation (Jepsen's
 * "what goes in must come out" count). Framework-free so the chaos runner (tsx) and jest share it.
 */
import { randomUUID } from "node:crypto";
import { GetQueueAttributesCommand, SendMessageBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { inboundDeduplicationId } from "../../runtime/aws/dedup-id";
import type { InboundMessage, StoredEntry } from "../../runtime/contracts";
import { createConversation, getConversations } from "../../runtime/store/conversations";
import type { Db } from "../../runtime/store/db";
import { pageMessages } from "../../runtime/store/messages";

export const newGroupId = () => `g:${randomUUID().replace(/-/g, "").slice(0, 16)}`;

export async function createGroups(
  db: Db<"conversations" | "memberships">,
  n: number,
  memberIds: string[] = ["alice", "bob"],
): Promise<string[]> {
  const ids = Array.from({ length: n }, newGroupId);
  await Promise.all(
    ids.map((conversationId) =>
      createConversation(db, {
        conversationId,
        kind: "group",
        title: conversationId,
        memberIds,
        createdBy: memberIds[0]!,
        createdAt: Date.now(),
      }),
    ),
  );
  return ids;
}

export function inbound(conversationId: string, clientMessageId: string, senderId = "alice"): InboundMessage {
  return { v: 1, conversationId, senderId, clientMessageId, body: `hello ${clientMessageId}`, sentAt: Date.now() };
}

export interface EnqueueItem {
  /** A string is sent verbatim (poison bodies). */
  readonly body: InboundMessage | string;
  readonly group: string;
  /** A fresh SQS dedupe id: a client resend after SQS's 5-minute dedupe window, or a second record at once. */
  readonly resend?: boolean;
}

/** Sends in order, 10 per batch (SQS keeps entry order within a group). */
export async function enqueue(sqs: SQSClient, queueUrl: string, items: readonly EnqueueItem[]): Promise<void> {
  for (let i = 0; i < items.length; i += 10) {
    const chunk = items.slice(i, i + 10);
    const out = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: chunk.map((it, j) => ({
          Id: String(j),
          MessageBody: typeof it.body === "string" ? it.body : JSON.stringify(it.body),
          MessageGroupId: it.group,
          MessageDeduplicationId:
            typeof it.body === "string" || it.resend ? randomUUID() : inboundDeduplicationId(it.body),
        })),
      }),
    );
    if (out.Failed?.length) throw new Error(`enqueue failed: ${JSON.stringify(out.Failed)}`);
  }
}

/** Sum of lastSeq over the conversations: how many messages the persister has stored. */
export async function totalStored(db: Db<"conversations">, ids: readonly string[]): Promise<number> {
  return (await getConversations(db, ids)).reduce((n, c) => n + c.lastSeq, 0);
}

export async function allMessages(db: Db<"messages">, conversationId: string): Promise<StoredEntry[]> {
  const out: StoredEntry[] = [];
  let after = 0;
  for (;;) {
    const page = await pageMessages(db, conversationId, { after, limit: 100 });
    out.push(...page.messages);
    if (!page.hasMore) return out;
    after = page.messages.at(-1)!.seq;
  }
}

export interface Audit {
  readonly stored: number;
  readonly lost: number;
  readonly duplicated: number;
  /** Conversations whose stored order differs from the send order. */
  readonly reordered: number;
  /** Seq values that are not 1, 2, 3 … without holes. */
  readonly gaps: number;
  /** Stored messages nobody sent (e.g. a poison body that got through). */
  readonly unexpected: number;
}

/** Compares the stored messages of each conversation with the clientMessageIds sent to it, in send order. */
export async function audit(db: Db<"messages">, expected: ReadonlyMap<string, readonly string[]>): Promise<Audit> {
  let stored = 0;
  let lost = 0;
  let duplicated = 0;
  let reordered = 0;
  let gaps = 0;
  let unexpected = 0;
  for (const [c, want] of expected) {
    const got = await allMessages(db, c);
    stored += got.length;
    got.forEach((m, i) => {
      if (m.seq !== i + 1) gaps++;
    });
    const ids = got.map((m) => m.clientMessageId);
    const unique = [...new Set(ids)];
    duplicated += ids.length - unique.length;
    const wanted = new Set(want);
    lost += want.filter((id) => !unique.includes(id)).length;
    unexpected += unique.filter((id) => !wanted.has(id)).length;
    const inOrder = want.filter((id) => unique.includes(id));
    if (unique.filter((id) => wanted.has(id)).join() !== inOrder.join()) reordered++;
  }
  return { stored, lost, duplicated, reordered, gaps, unexpected };
}

export async function queueCounts(
  sqs: SQSClient,
  queueUrl: string,
): Promise<{ visible: number; inFlight: number; total: number }> {
  const a = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  const visible = Number(a.Attributes?.ApproximateNumberOfMessages ?? 0);
  const inFlight = Number(a.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
  return { visible, inFlight, total: visible + inFlight };
}

/** Deterministic-enough randomness for the chaos rounds; the seed is printed so a failing run can be repeated. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    // xorshift32
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x1_0000_0000;
  };
}
