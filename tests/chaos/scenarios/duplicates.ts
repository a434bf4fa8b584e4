/**
 * Forced duplicates, every way they arise: client resends (same SQS dedupe id, and a fresh one as after SQS's
 * 5-minute window), a visibility timeout shorter than processing (two runner processes plus a deliberately
 * slow consumer running the real persister, inbound visibility lowered to 1 s), and two identical records
 * persisted at the same instant. Each message must be stored exactly once, in send order.
 */
import { SetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { SqsEventSource } from "../../../runtime/local/event-source";
import { spawnTs, waitForOutput, type ManagedProcess } from "../../../runtime/local/processes";
import { persistBatch, type PersisterDeps } from "../../../runtime/persister/persist-batch";
import type { SqsRecord } from "../../../runtime/persister/sqs-event";
import { LOCAL_REGION } from "../../../runtime/contracts";
import { drainQueue } from "../../support/emulated";
import { sqsRecord } from "../../support/sqs-record";
import {
  audit,
  createGroups,
  enqueue,
  inbound,
  queueCounts,
  totalStored,
  type EnqueueItem,
} from "../../support/pipeline";
import { sleep, timeUntil } from "../../support/timing";
import type { ChaosContext, ScenarioResult } from "../kit";

const SLOW_HANDLER_MS = 1_300;

const record = (body: string, id: string, group: string): SqsRecord =>
  sqsRecord(body, group, { id, queueName: "chaos" });

export async function forcedDuplicates(ctx: ChaosContext, opts: { rounds: number }): Promise<ScenarioResult> {
  const { stack, sqs, db } = ctx;
  const inboundUrl = stack.provisioned.queueUrls.inbound;
  const failures: string[] = [];
  const quiet = { warn: () => undefined, error: () => undefined };
  const deps: PersisterDeps = {
    db,
    sqs,
    notifyQueueUrl: stack.provisioned.queueUrls.notify,
    now: Date.now,
    log: quiet,
  };
  let slowRecords = 0;
  let slowRedelivered = 0;

  await sqs.send(new SetQueueAttributesCommand({ QueueUrl: inboundUrl, Attributes: { VisibilityTimeout: "1" } }));
  let second: ManagedProcess | undefined;
  const slow = new SqsEventSource({
    sqs,
    queueUrl: inboundUrl,
    region: LOCAL_REGION,
    concurrency: 1,
    handler: async (event) => {
      slowRecords += event.Records.length;
      slowRedelivered += event.Records.filter((r) => Number(r.attributes.ApproximateReceiveCount) > 1).length;
      // Longer than the 1 s visibility timeout: every record this consumer takes is redelivered to a runner
      // while it is still being processed here.
      await sleep(SLOW_HANDLER_MS);
      return persistBatch(event, deps);
    },
  });
  const expected = new Map<string, string[]>();
  let messages = 0;
  let copies = 0;
  const started = Date.now();
  try {
    // The slow consumer must hold records past their visibility timeout, but on a busy machine the runners can
    // take every FIFO group before it polls. So it starts alone, and both runners join once it holds some.
    await stack.runner?.stop();
    await slow.start();
    for (let round = 0; round < opts.rounds; round++) {
      const ids = await createGroups(db, 6);
      for (const c of ids) expected.set(c, []);
      const items: EnqueueItem[] = [];
      const late: EnqueueItem[] = [];
      for (let i = 0; i < 120; i++) {
        const c = ids[i % ids.length]!;
        const m = inbound(c, `d${round}-${i}`);
        expected.get(c)!.push(m.clientMessageId);
        items.push({ body: m, group: c });
        if (i % 5 === 0) items.push({ body: m, group: c }); // resend within SQS's dedupe window
        if (i % 7 === 0) items.push({ body: m, group: c, resend: true }); // a second record right behind
        if (i % 11 === 0) late.push({ body: m, group: c, resend: true }); // a resend after newer messages
      }
      messages += 120;
      copies += items.length + late.length - 120;
      await enqueue(sqs, inboundUrl, items);
      await enqueue(sqs, inboundUrl, late);
      if (!second) {
        await timeUntil("the slow consumer holds records", async () => slowRecords > 0, 30_000);
        await stack.startRunner();
        second = spawnTs("persister-2", "runtime/local/runner.ts", { env: stack.env });
        await waitForOutput(second, /persister runner polling/);
      }
      await timeUntil(`round ${round + 1} stored`, async () => (await totalStored(db, ids)) >= 120, 90_000);

      // Two identical records persisted at the same instant, bypassing the queue's group lock.
      const [twinConversation] = await createGroups(db, 1);
      expected.set(twinConversation!, []);
      for (let i = 0; i < 15; i++) {
        const body = JSON.stringify(inbound(twinConversation!, `twin${round}-${i}`));
        expected.get(twinConversation!)!.push(`twin${round}-${i}`);
        const results = await Promise.all(
          [0, 1, 2].map((k) =>
            persistBatch({ Records: [record(body, `twin-${round}-${i}-${k}`, twinConversation!)] }, deps),
          ),
        );
        const retried = results.filter((r) => r.batchItemFailures.length).length;
        // A copy that lost the race may be asked to retry; retrying must find the stored one.
        for (let k = 0; k < retried; k++) {
          const again = await persistBatch(
            { Records: [record(body, `twin-retry-${i}-${k}`, twinConversation!)] },
            deps,
          );
          if (again.batchItemFailures.length) failures.push(`twin ${i} kept failing`);
        }
        messages += 1;
        copies += 2;
      }
      ctx.log(`duplicates round ${round + 1}: slow consumer took ${slowRecords} records so far`);
    }
    await timeUntil("inbound queue drained", async () => (await queueCounts(sqs, inboundUrl)).total === 0, 60_000);
  } finally {
    await slow.stop();
    await second?.stop();
    if (!stack.runner || stack.runner.child.exitCode !== null || stack.runner.child.signalCode !== null) {
      await stack.startRunner();
    }
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl: inboundUrl, Attributes: { VisibilityTimeout: "2" } }));
  }
  const dead = await drainQueue(sqs, stack.provisioned.dlqUrls.inbound);
  if (dead.length) failures.push(`${dead.length} messages dead-lettered`);
  if (slowRecords === 0) failures.push("the slow consumer never got a record: no forced redelivery happened");
  const a = await audit(db, expected);
  if (a.gaps) failures.push(`${a.gaps} seq gaps`);
  if (a.unexpected) failures.push(`${a.unexpected} unexpected messages`);
  return {
    scenario: "forced duplicates (resends, 1 s visibility, 2 runners + slow consumer, twins)",
    rounds: opts.rounds,
    messages,
    lost: a.lost,
    duplicated: a.duplicated,
    reordered: a.reordered,
    acceptedBadInput: 0,
    recoveryMs: [],
    failures,
    notes: `${copies} duplicate copies sent; ${slowRecords} records held past their visibility timeout by the slow consumer (${slowRedelivered} of them already redeliveries); ${Date.now() - started} ms`,
  };
}
