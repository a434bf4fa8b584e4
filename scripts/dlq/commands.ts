/**
 * list / show / redrive over a resolved queue and its DLQ. SQS has no peek: `show` and a dry run receive
 * dead letters and hand them straight back (visibility 0), which raises their receive count in the DLQ and
 * nothing else. For a FIFO DLQ, SQS hides the rest of a group while its head is received, so `show` sees the
 * head of each group; `list` gives the full counts.
 */
import { randomUUID } from "node:crypto";
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { Db } from "../../runtime/store/db";
import { deadLetterReason } from "./reason";
import type { ResolvedQueue } from "./resolve";

export interface Io {
  out(line: string): void;
}

export interface QueueCounts {
  readonly visible: number;
  readonly inFlight: number;
}

/** Long enough to send and delete one batch; released early when the command is done with a message. */
const HOLD_SECONDS = 60;

export async function counts(sqs: SQSClient, url: string): Promise<QueueCounts> {
  const a = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  return {
    visible: Number(a.Attributes?.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(a.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}

export async function listQueues(sqs: SQSClient, resolved: readonly ResolvedQueue[], io: Io): Promise<void> {
  const rows = [["queue", "waiting", "in flight", "dead letters", "maxReceiveCount", "dlq"]];
  for (const q of resolved) {
    const [main, dlq] = await Promise.all([counts(sqs, q.url), counts(sqs, q.dlqUrl)]);
    rows.push([
      q.key,
      String(main.visible),
      String(main.inFlight),
      String(dlq.visible + dlq.inFlight),
      String(q.maxReceiveCount),
      q.dlqUrl,
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows)
    io.out(
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join("  ")
        .trimEnd(),
    );
}

async function receive(sqs: SQSClient, url: string, max: number): Promise<Message[]> {
  const out = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: url,
      MaxNumberOfMessages: Math.max(1, Math.min(10, max)),
      VisibilityTimeout: HOLD_SECONDS,
      WaitTimeSeconds: 0,
      MessageSystemAttributeNames: ["All"],
    }),
  );
  return out.Messages ?? [];
}

/** Hands messages back, last first, so a FIFO group keeps its order whatever the queue does on release. */
async function release(sqs: SQSClient, url: string, messages: readonly Message[]): Promise<void> {
  for (const m of [...messages].reverse()) {
    await sqs.send(
      new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: 0 }),
    );
  }
}

/** Receives up to `max` dead letters without deleting any; `use` sees each, then all are handed back. */
async function scan(
  sqs: SQSClient,
  q: ResolvedQueue,
  max: number,
  use: (m: Message) => Promise<void>,
): Promise<number> {
  const held: Message[] = [];
  try {
    while (held.length < max) {
      const batch = await receive(sqs, q.dlqUrl, max - held.length);
      if (!batch.length) break;
      held.push(...batch);
      for (const m of batch) await use(m);
    }
  } finally {
    await release(sqs, q.dlqUrl, held);
  }
  return held.length;
}

const sentAt = (m: Message) => {
  const t = Number(m.Attributes?.SentTimestamp);
  return Number.isFinite(t) && t > 0 ? new Date(t).toISOString() : "?";
};

const preview = (body: string) => (body.length > 300 ? `${body.slice(0, 300)}… (${body.length} chars)` : body);

export async function showDeadLetters(
  sqs: SQSClient,
  q: ResolvedQueue,
  opts: { max: number; db?: Db<"conversations">; messages?: Db<"messages"> },
  io: Io,
): Promise<number> {
  let n = 0;
  const seen = await scan(sqs, q, opts.max, async (m) => {
    n++;
    const body = m.Body ?? "";
    io.out(
      `#${n} ${m.MessageId}  receives=${m.Attributes?.ApproximateReceiveCount ?? "?"}  group=${m.Attributes?.MessageGroupId ?? "-"}  sent=${sentAt(m)}`,
    );
    io.out(`   reason: ${await deadLetterReason(q.key, body, opts.db, opts.messages)}`);
    io.out(`   body:   ${preview(body)}`);
  });
  const total = await counts(sqs, q.dlqUrl);
  io.out(
    `${seen} shown of ${total.visible + total.inFlight} in ${q.dlqUrl}${q.fifo ? " (FIFO: the head of each group)" : ""}`,
  );
  return seen;
}

export interface RedriveResult {
  readonly moved: number;
  readonly failed: number;
  /** Dry run: how many would move. */
  readonly wouldMove: number;
}

/**
 * Moves dead letters back to their queue. FIFO order holds because a group's next dead letter is only
 * received after its predecessor was sent and deleted; a failed send stops that group for this run.
 * A crash between send and delete leaves a copy in both queues: the next redrive sends it again and the
 * persister's dedupe (inbound) or the clients' seq dedupe (notify) absorbs the repeat.
 */
export async function redrive(
  sqs: SQSClient,
  q: ResolvedQueue,
  opts: { max: number; dryRun: boolean },
  io: Io,
): Promise<RedriveResult> {
  if (opts.dryRun) {
    const wouldMove = await scan(sqs, q, opts.max, async (m) => {
      io.out(`would redrive ${m.MessageId} group=${m.Attributes?.MessageGroupId ?? "-"} sent=${sentAt(m)}`);
    });
    const total = await counts(sqs, q.dlqUrl);
    io.out(`dry run: ${total.visible + total.inFlight} dead letters in ${q.dlqUrl}; nothing was moved`);
    return { moved: 0, failed: 0, wouldMove };
  }
  let moved = 0;
  let failed = 0;
  const stoppedGroups = new Set<string>();
  const heldBack: Message[] = [];
  try {
    while (moved + failed < opts.max) {
      const batch = await receive(sqs, q.dlqUrl, opts.max - moved - failed);
      const fresh = batch.filter((m) => !stoppedGroups.has(m.Attributes?.MessageGroupId ?? ""));
      heldBack.push(...batch.filter((m) => !fresh.includes(m)));
      if (!fresh.length) break;
      for (const m of fresh) {
        const group = m.Attributes?.MessageGroupId;
        if (group && stoppedGroups.has(group)) {
          heldBack.push(m);
          continue;
        }
        try {
          await sqs.send(
            new SendMessageCommand({
              QueueUrl: q.url,
              MessageBody: m.Body ?? "",
              ...(q.fifo ? { MessageGroupId: group, MessageDeduplicationId: `redrive-${randomUUID()}` } : {}),
            }),
          );
        } catch (err) {
          failed++;
          if (group) stoppedGroups.add(group);
          heldBack.push(m);
          io.out(`FAILED to send ${m.MessageId} back to ${q.url}: ${(err as Error).message} (left in the DLQ)`);
          continue;
        }
        try {
          await sqs.send(new DeleteMessageCommand({ QueueUrl: q.dlqUrl, ReceiptHandle: m.ReceiptHandle! }));
        } catch (err) {
          io.out(`sent ${m.MessageId} but could not delete it from the DLQ: ${(err as Error).message}`);
        }
        moved++;
        io.out(`redriven ${m.MessageId} group=${group ?? "-"}`);
      }
    }
  } finally {
    await release(sqs, q.dlqUrl, heldBack);
  }
  io.out(`${moved} moved back to ${q.url}${failed ? `, ${failed} failed (still in the DLQ)` : ""}`);
  return { moved, failed, wouldMove: 0 };
}
