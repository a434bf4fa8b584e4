/* eslint-disable @typescript-eslint/no-explicit-any -- JSON bodies of the API under test are checked by the assertions */
/**
 * Test support for the conversation log's entry kinds (issue 16): creating conversations over HTTP, sending a
 * frame and collecting its answer, waiting for a stored entry to reach a socket, paging the whole history,
 * reading a conversation's items straight from the tables, and putting an entry straight on the inbound queue.
 */
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { GetCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { encodeQueueBody, tableNamesFor, type AwsConfig, type InboundEntry } from "../../runtime/contracts";
import { createDynamoClient, createSqsClient } from "../../runtime/aws/clients";
import { inboundDeduplicationId } from "../../runtime/aws/dedup-id";
import { LOCAL_PREFIX, type LocalStack } from "../../runtime/local/stack";
import { api, type Client, type Frame } from "./clients";
import { timing, waitUntil } from "./timing";
import type { TestUser } from "./users";

/** A group created by `creator` over HTTP on `base`; the creator is a member. */
export async function createGroup(base: string, creator: TestUser, others: TestUser[], title = "a group") {
  const r = await api(
    base,
    "POST",
    "/api/conversations",
    { kind: "group", title, memberIds: others.map((u) => u.userId) },
    creator.token,
  );
  if (r.status !== 201) throw new Error(`group create failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.conversation.conversationId as string;
}

export async function createDirect(base: string, a: TestUser, b: TestUser): Promise<string> {
  const r = await api(base, "POST", "/api/conversations", { kind: "direct", userId: b.userId }, a.token);
  if (r.status !== 201 && r.status !== 200)
    throw new Error(`direct create failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.conversation.conversationId as string;
}

/** What the gateway answered to the frames sent in one `exchange`, in the order it answered. */
export interface Exchange {
  /** Every frame that arrived between the send and the pong that followed it. */
  readonly frames: Frame[];
  /**
   * The answer to frame `i`: its `error` if it was refused, else its `accepted` or (sync) `synced`; undefined when
   * none came (a typing or read taken without complaint).
   */
  answer(i: number): Frame | undefined;
}

/** Whether `f` is the gateway's refusal of `sent`. */
const refuses = (sent: Record<string, any>) => (f: Frame) => {
  if (f.type !== "error" || f.ref?.type !== sent.type) return false;
  const cmid = sent.clientMessageId as string | undefined;
  if (cmid !== undefined) return f.ref?.clientMessageId === cmid;
  return f.ref?.conversationId === (sent.conversationId ?? sent.cursors?.[0]?.conversationId);
};

/** Whether `f` is the gateway's taking of `sent`: its `accepted`, or (sync) a `synced`. */
const takes = (sent: Record<string, any>) => (f: Frame) => {
  if (sent.type === "sync") return f.type === "synced";
  return (
    f.type === "accepted" && f.clientMessageId === sent.clientMessageId && f.conversationId === sent.conversationId
  );
};

/**
 * Sends `sent` back to back, then a ping: the gateway answers a socket's frames in order, so every answer (an
 * `accepted`, an `error`, a `synced`) to them arrives before the pong, and a frame with no answer there (typing,
 * read) was taken without complaint.
 */
export async function exchange(c: Client, sent: Record<string, any>[], timeoutMs = timing.ms(15_000)) {
  const seen = c.frames.length;
  for (const f of sent) c.send(f);
  c.send({ type: "ping" });
  const pong = await c.waitFor((f) => c.frames.indexOf(f) >= seen && f.type === "pong", timeoutMs, "pong");
  const frames = c.frames.slice(seen, c.frames.indexOf(pong));
  const ex: Exchange = {
    frames,
    answer: (i) => frames.find(refuses(sent[i]!)) ?? frames.find(takes(sent[i]!)),
  };
  return ex;
}

/** Sends one frame and answers its `accepted` / `error` / `synced` (undefined: none, e.g. an accepted typing). */
export async function request(c: Client, frame: Record<string, any>): Promise<Frame | undefined> {
  return (await exchange(c, [frame])).answer(0);
}

/** Sends a change and fails unless it is accepted. */
export async function accepted(c: Client, frame: Record<string, any>): Promise<void> {
  const ex = await exchange(c, [frame]);
  if (ex.answer(0)?.type !== "accepted") {
    throw new Error(`${c.name}: ${JSON.stringify(frame)} not accepted; got ${JSON.stringify(ex.frames)}`);
  }
}

/** A log entry (message or event) of `conversationId` as a socket received it. */
export const isEntry = (f: Frame, conversationId: string) =>
  (f.type === "message" || f.type === "event") && f.conversationId === conversationId;

/** Waits until `c` has received the entry at `seq` of `conversationId`. */
export function entryAt(c: Client, conversationId: string, seq: number, timeoutMs = timing.ms(15_000)) {
  return c.waitFor((f) => isEntry(f, conversationId) && f.seq === seq, timeoutMs, `${conversationId}#${seq}`);
}

/** Waits until `c` has received the entry `senderId` sent with `clientMessageId` in `conversationId`. */
export function entryBy(
  c: Client,
  conversationId: string,
  senderId: string,
  clientMessageId: string,
  timeoutMs = timing.ms(15_000),
): Promise<Frame> {
  return c.waitFor(
    (f) => isEntry(f, conversationId) && f.senderId === senderId && f.clientMessageId === clientMessageId,
    timeoutMs,
    `${conversationId} entry ${senderId}/${clientMessageId}`,
  );
}

/** Sends a change from `c`, and resolves with the stored entry once it comes back to `c` (its seq and all). */
export async function commit(c: Client, frame: Record<string, any>): Promise<Frame> {
  await accepted(c, frame);
  return entryBy(c, frame.conversationId as string, c.ready.userId, frame.clientMessageId as string);
}

export interface History {
  /** Every entry, ascending by seq. */
  readonly entries: any[];
  readonly readPositions: Record<string, number>;
}

/** Pages GET /api/conversations/:id/messages forward from the start; fails unless each page answers 200. */
export async function fullHistory(base: string, token: string, conversationId: string): Promise<History> {
  const entries: any[] = [];
  let readPositions: Record<string, number> = {};
  let after = 0;
  for (;;) {
    const r = await api(
      base,
      "GET",
      `/api/conversations/${encodeURIComponent(conversationId)}/messages?after=${after}&limit=100`,
      undefined,
      token,
    );
    if (r.status !== 200) throw new Error(`history of ${conversationId}: ${r.status} ${JSON.stringify(r.body)}`);
    entries.push(...r.body.messages);
    readPositions = r.body.readPositions ?? readPositions;
    if (!r.body.hasMore || r.body.messages.length === 0) return { entries, readPositions };
    after = r.body.messages.at(-1).seq;
  }
}

/** The chat list `user` sees on `base`. */
export async function chatList(base: string, user: TestUser): Promise<any[]> {
  const r = await api(base, "GET", "/api/conversations", undefined, user.token);
  if (r.status !== 200) throw new Error(`chat list: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.conversations;
}

/** Every item of `conversationId` in the local stack's messages table, read consistently, as stored. */
export async function messageItems(aws: AwsConfig, conversationId: string): Promise<Record<string, any>[]> {
  const ddb = createDynamoClient(aws);
  const items: Record<string, any>[] = [];
  try {
    let start: Record<string, any> | undefined;
    do {
      const out = await ddb.send(
        new QueryCommand({
          TableName: tableNamesFor(LOCAL_PREFIX).messages,
          KeyConditionExpression: "conversationId = :c",
          ExpressionAttributeValues: { ":c": conversationId },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      items.push(...((out.Items ?? []) as Record<string, any>[]));
      start = out.LastEvaluatedKey;
    } while (start);
  } finally {
    ddb.destroy();
  }
  return items;
}

/** The conversation's item in the local stack's conversations table, read consistently, as stored. */
export async function conversationItem(
  aws: AwsConfig,
  conversationId: string,
): Promise<Record<string, any> | undefined> {
  const ddb = createDynamoClient(aws);
  try {
    const out = await ddb.send(
      new GetCommand({
        TableName: tableNamesFor(LOCAL_PREFIX).conversations,
        Key: { conversationId },
        ConsistentRead: true,
      }),
    );
    return out.Item as Record<string, any> | undefined;
  } finally {
    ddb.destroy();
  }
}

/**
 * Puts `entry` straight on the stack's inbound queue, as a gateway would have (same group and dedupe id): an
 * entry some gateway accepted before it knew better. Answers the SQS message id the persister logs it under.
 */
export async function enqueueRaw(stack: LocalStack, entry: InboundEntry): Promise<string> {
  const sqs = createSqsClient(stack.aws);
  try {
    const out = await sqs.send(
      new SendMessageCommand({
        QueueUrl: stack.provisioned.queueUrls.inbound,
        MessageBody: encodeQueueBody(entry),
        MessageGroupId: entry.conversationId,
        MessageDeduplicationId: inboundDeduplicationId(entry),
      }),
    );
    return out.MessageId!;
  } finally {
    sqs.destroy();
  }
}

/** The persister runner's first log line about SQS message `messageId`, once it has one (parsed JSON). */
export async function persisterLogFor(stack: LocalStack, messageId: string): Promise<Record<string, unknown>> {
  return waitUntil(
    () => {
      const line = stack
        .runner!.output()
        .split("\n")
        .find((l) => l.includes(messageId));
      return line ? (JSON.parse(line) as Record<string, unknown>) : undefined;
    },
    { timeoutMs: timing.ms(20_000), what: `a persister log line about ${messageId}` },
  );
}
