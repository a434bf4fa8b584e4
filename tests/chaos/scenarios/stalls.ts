/**
 * Stalls after a failed record. A busy conversation (plus two quieter ones) keeps sending while one of its
 * records fails once transiently (a DynamoDB 500 on its message put, through a fault proxy in front of the
 * emulator) and, later, one poison record (a non-member's message) lands in it. FIFO holds every later message of
 * the conversation behind the failed record until it is stored or dead-lettered; the stall of a message is the
 * time from its `accepted` (SQS took it) to its storage, measured for every message of the conversation queued
 * behind the failure. The inbound queue runs with the production visibility timeout (180 s), so a failed record
 * left alone would hold its conversation for 180 s (transient) or about 5 × 180 s (poison).
 * Targets: transient stall p50 and max ≤ 5 s, poison stall max ≤ 10 s, nothing lost, duplicated or reordered,
 * and exactly the poison record in the DLQ.
 */
import {
  GetQueueAttributesCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { inboundDeduplicationId } from "../../../runtime/aws/dedup-id";
import { env, queues, type InboundMessage } from "../../../runtime/contracts";
import { spawnTs, waitForOutput, type ManagedProcess } from "../../../runtime/local/processes";
import { drainQueue } from "../../support/emulated";
import { pageMessages } from "../../../runtime/store/messages";
import type { Db } from "../../../runtime/store/db";
import { audit, createGroups, inbound, queueCounts, totalStored } from "../../support/pipeline";
import { sleep, timeUntil } from "../../support/timing";
import { startDynamoFaultProxy } from "../dynamo-fault-proxy";
import type { ChaosContext, ScenarioResult } from "../kit";

export const STALL_TARGETS = { transientP50Ms: 5_000, transientMaxMs: 5_000, poisonMaxMs: 10_000 } as const;

export interface StallResult extends ScenarioResult {
  /** Stalls of the messages queued behind the transient failure (the failed record first). */
  readonly transientStallMs: readonly number[];
  /** Stalls of the messages queued behind the poison record. */
  readonly poisonStallMs: readonly number[];
  /** Latency of the busy conversation's messages accepted before the first fault of each round: no failure. */
  readonly baselineMs: readonly number[];
}

interface Sent {
  readonly id: string;
  readonly acceptedAt: number;
  readonly sqsMessageId: string;
}

async function send(sqs: SQSClient, queueUrl: string, body: InboundMessage): Promise<Sent> {
  const out = await sqs.send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: JSON.stringify(body),
      MessageGroupId: body.conversationId,
      MessageDeduplicationId: inboundDeduplicationId(body),
    }),
  );
  return { id: body.clientMessageId, acceptedAt: Date.now(), sqsMessageId: out.MessageId! };
}

export const percentile = (xs: readonly number[], p: number): number => {
  if (!xs.length) return Number.NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};
const summary = (xs: readonly number[]) =>
  xs.length ? `p50 ${percentile(xs, 50)} / max ${Math.max(...xs)} ms (${xs.length} msgs)` : "none";

/** When each message of a conversation was stored, read incrementally (a full read per poll would load the emulator). */
function storedTimes(db: Db<"messages">, conversationId: string) {
  const at = new Map<string, number>();
  let cursor = 0;
  return {
    at,
    async pull(): Promise<void> {
      for (;;) {
        const page = await pageMessages(db, conversationId, { after: cursor, limit: 100 });
        for (const m of page.messages) {
          at.set(m.clientMessageId, m.storedAt);
          cursor = m.seq;
        }
        if (!page.hasMore) return;
      }
    },
  };
}

/** Lines of the runner's JSON log about one SQS message. */
const logLinesOf = (runner: ManagedProcess, sqsMessageId: string, msg: string) =>
  runner
    .output()
    .split("\n")
    .filter((l) => l.includes(`"messageId":"${sqsMessageId}"`) && l.includes(msg)).length;

export async function stallsAfterFailure(
  ctx: ChaosContext,
  opts: { rounds: number; busyPerSecond?: number; waitLimitMs?: number },
): Promise<StallResult> {
  const { stack, sqs, db } = ctx;
  const inboundUrl = stack.provisioned.queueUrls.inbound;
  const dlqUrl = stack.provisioned.dlqUrls.inbound;
  const busyGapMs = Math.round(1000 / (opts.busyPerSecond ?? 2));
  // Far below the 180 s a record waits without the fast retry, so a regression fails instead of waiting it out.
  const waitLimitMs = opts.waitLimitMs ?? 45_000;
  const failures: string[] = [];
  const transientStallMs: number[] = [];
  const poisonStallMs: number[] = [];
  const baselineMs: number[] = [];
  const [busy, ...quiet] = await createGroups(db, 3);
  const expected = new Map<string, string[]>([busy!, ...quiet].map((c) => [c, []]));
  const sent = new Map<string, Sent>();
  const poisonBodies = new Set<string>();
  let messages = 0;
  let poisonReceives = 0;

  // The production visibility timeout for the duration, restored after.
  const before = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: inboundUrl, AttributeNames: ["VisibilityTimeout"] }),
  );
  const restoreVisibility = before.Attributes?.VisibilityTimeout ?? String(queues.inbound.visibilityTimeoutSeconds);
  const setVisibility = (seconds: string) =>
    sqs.send(new SetQueueAttributesCommand({ QueueUrl: inboundUrl, Attributes: { VisibilityTimeout: seconds } }));

  const proxy = await startDynamoFaultProxy(() => stack.emulators.dynamodb.endpoint);
  let runner: ManagedProcess | undefined;
  try {
    await setVisibility(String(queues.inbound.visibilityTimeoutSeconds));
    // The same runner process, its DynamoDB calls through the fault proxy.
    await stack.runner?.stop();
    runner = spawnTs("persister-faulty", "runtime/local/runner.ts", {
      env: { ...stack.env, [env.dynamodbEndpoint]: proxy.endpoint },
    });
    await waitForOutput(runner, /persister runner polling/);
    // Warm: the first batches of a fresh process load and connect everything, which is not what is measured here.
    const [warm] = await createGroups(db, 1);
    for (let i = 0; i < 5; i++) await send(sqs, inboundUrl, inbound(warm!, `warm-${i}`));
    const faulty = runner;
    await timeUntil("the runner warmed up", async () => (await totalStored(db, [warm!])) === 5, waitLimitMs).catch(
      (err: Error) => {
        // What the runner said is the only clue to why it stored nothing (it has failed once, not reproduced).
        throw new Error(
          `${err.message}; the runner's last output:\n${faulty.output().split("\n").slice(-30).join("\n")}`,
        );
      },
    );
    const busyStored = storedTimes(db, busy!);

    for (let round = 0; round < opts.rounds; round++) {
      let producing = true;
      let special: InboundMessage | undefined;
      let specialSent: ((s: Sent) => void) | undefined;
      let n = 0;
      const inject = (m: InboundMessage) =>
        new Promise<Sent>((resolve) => {
          special = m;
          specialSent = resolve;
        });
      // Right behind each injected record a burst, so there is always a queue behind it, then the steady rate.
      let burst = 0;
      const busyProducer = (async () => {
        while (producing) {
          const next = special;
          if (next) {
            special = undefined;
            const s = await send(sqs, inboundUrl, next);
            specialSent!(s);
            burst = 3;
            continue;
          }
          const m = inbound(busy!, `r${round}-b${n++}`);
          expected.get(busy!)!.push(m.clientMessageId);
          sent.set(m.clientMessageId, await send(sqs, inboundUrl, m));
          if (burst > 0) burst--;
          else await sleep(busyGapMs);
        }
      })();
      const quietProducer = (async () => {
        let k = 0;
        while (producing) {
          for (const c of quiet) {
            const m = inbound(c!, `r${round}-q${k}`);
            expected.get(c!)!.push(m.clientMessageId);
            await send(sqs, inboundUrl, m);
          }
          k++;
          await sleep(1_000);
        }
      })();

      try {
        await sleep(2_000);
        // One transient failure: the record's message put fails (every attempt the SDK makes) until the persister
        // has given the record up for this receive, then DynamoDB answers again.
        const transientId = `r${round}-transient`;
        const disarm = proxy.arm({ operation: "PutItem", bodyContains: `"${transientId}"` });
        const injectedBefore = proxy.injected();
        const t = inbound(busy!, transientId);
        expected.get(busy!)!.push(t.clientMessageId);
        const tSent = await inject(t);
        sent.set(t.clientMessageId, tSent);
        await waitForOutput(
          runner,
          new RegExp(`^(?=.*"messageId":"${tSent.sqsMessageId}")(?=.*will retry).*$`, "m"),
          waitLimitMs,
        )
          .catch((err: Error) =>
            failures.push(`the transient fault never failed the record: ${err.message.split("\n")[0]}`),
          )
          .finally(disarm);
        let tStoredAt = Number.NaN;
        await timeUntil(
          "the transient record stored",
          async () => {
            await busyStored.pull();
            tStoredAt = busyStored.at.get(transientId) ?? Number.NaN;
            return busyStored.at.has(transientId);
          },
          waitLimitMs,
        ).catch((err: Error) =>
          failures.push(`${err.message} (visibility timeout ${queues.inbound.visibilityTimeoutSeconds} s)`),
        );
        const retried = logLinesOf(runner, tSent.sqsMessageId, "will retry");
        if (retried !== 1) failures.push(`the transient record failed ${retried} times, not once`);
        if (proxy.injected() === injectedBefore) failures.push("the fault proxy failed no request");

        await sleep(1_500);
        // One poison record: a well-formed message from someone who is not a member.
        const p = inbound(busy!, `r${round}-poison`, "mallory");
        poisonBodies.add(JSON.stringify(p));
        const deadBefore = (await queueCounts(sqs, dlqUrl)).total;
        const pSent = await inject(p);
        let pDeadAt = Number.NaN;
        await timeUntil(
          "the poison record dead-lettered",
          async () => {
            const dead = (await queueCounts(sqs, dlqUrl)).total > deadBefore;
            if (dead) pDeadAt = Date.now();
            return dead;
          },
          waitLimitMs,
        ).catch((err: Error) => failures.push(err.message));
        await sleep(1_500);
        producing = false;
        await Promise.all([busyProducer, quietProducer]);
        poisonReceives += logLinesOf(runner, pSent.sqsMessageId, "can never be stored");

        const total = [...expected.values()].reduce((a, ids) => a + ids.length, 0);
        await timeUntil(
          `all ${total} stored`,
          async () => (await totalStored(db, [...expected.keys()])) >= total,
          waitLimitMs,
        ).catch((err: Error) => failures.push(err.message));

        await busyStored.pull();
        const storedAt = busyStored.at;
        const roundIds = expected.get(busy!)!.filter((id) => id.startsWith(`r${round}-`));
        // Clamped at 0: the runner can store a message before the sending process has handled SQS's reply.
        const stallOf = (id: string) => Math.max(0, storedAt.get(id)! - sent.get(id)!.acceptedAt);
        // Queued behind the transient record: itself, and what was accepted after it until it was stored.
        const behindTransient = roundIds.filter(
          (id) =>
            id === transientId ||
            (sent.get(id)!.acceptedAt >= tSent.acceptedAt && sent.get(id)!.acceptedAt <= tStoredAt),
        );
        // Queued behind the poison: accepted from its accept until it was dead-lettered, and at least the next one.
        const afterPoison = roundIds.filter((id) => sent.get(id)!.acceptedAt >= pSent.acceptedAt);
        const behindPoison = afterPoison.filter((id, i) => i === 0 || sent.get(id)!.acceptedAt <= pDeadAt);
        for (const id of roundIds) {
          if (!storedAt.has(id)) continue; // counted as lost by the audit
          if (behindTransient.includes(id)) transientStallMs.push(stallOf(id));
          else if (behindPoison.includes(id)) poisonStallMs.push(stallOf(id));
          else if (sent.get(id)!.acceptedAt < tSent.acceptedAt) baselineMs.push(stallOf(id));
        }
        ctx.log(
          `stalls round ${round + 1}: transient ${summary(behindTransient.filter((id) => storedAt.has(id)).map(stallOf))}; poison ${summary(behindPoison.filter((id) => storedAt.has(id)).map(stallOf))}`,
        );
      } finally {
        producing = false;
        await Promise.all([busyProducer, quietProducer]);
      }
      messages += [...expected.values()].reduce(
        (a, ids) => a + ids.filter((id) => id.startsWith(`r${round}-`)).length,
        0,
      );
    }
  } finally {
    await runner?.stop();
    await proxy.close();
    await setVisibility(restoreVisibility);
    await stack.startRunner();
  }

  const dead = await drainQueue(sqs, dlqUrl);
  const missingDead = [...poisonBodies].filter((b) => !dead.includes(b));
  if (missingDead.length) failures.push(`${missingDead.length} poison records not in the DLQ`);
  const healthyDead = dead.filter((b) => {
    try {
      const id = (JSON.parse(b) as { clientMessageId?: string }).clientMessageId;
      return id !== undefined && [...expected.values()].some((ids) => ids.includes(id));
    } catch {
      return false;
    }
  });
  if (healthyDead.length) failures.push(`${healthyDead.length} healthy messages dead-lettered`);
  const a = await audit(db, expected);
  if (a.gaps) failures.push(`${a.gaps} seq gaps`);

  const transientP50 = percentile(transientStallMs, 50);
  const transientMax = Math.max(...transientStallMs);
  const poisonMax = Math.max(...poisonStallMs);
  if (!transientStallMs.length || !poisonStallMs.length) failures.push("no stall measured");
  if (transientP50 > STALL_TARGETS.transientP50Ms || transientMax > STALL_TARGETS.transientMaxMs) {
    failures.push(
      `transient stall p50 ${transientP50} / max ${transientMax} ms above ${STALL_TARGETS.transientMaxMs} ms`,
    );
  }
  if (poisonMax > STALL_TARGETS.poisonMaxMs) {
    failures.push(`poison stall max ${poisonMax} ms above ${STALL_TARGETS.poisonMaxMs} ms`);
  }
  return {
    scenario: "stalls after a failed record",
    rounds: opts.rounds,
    messages,
    lost: a.lost,
    duplicated: a.duplicated,
    reordered: a.reordered,
    acceptedBadInput: a.unexpected,
    recoveryMs: [...transientStallMs, ...poisonStallMs],
    failures,
    transientStallMs,
    poisonStallMs,
    baselineMs,
    notes:
      `visibility timeout ${queues.inbound.visibilityTimeoutSeconds} s; stall = accepted → stored of the busy ` +
      `conversation's messages queued behind the failure: transient ${summary(transientStallMs)}, poison ` +
      `${summary(poisonStallMs)} (${poisonReceives / opts.rounds} receives each before the DLQ), before the faults ${summary(baselineMs)}`,
  };
}
