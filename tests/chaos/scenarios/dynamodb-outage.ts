/**
 * DynamoDB (dynalite) stopped and restarted while traffic keeps arriving on the inbound queue. The runner must
 * survive the outage (failed records return after the persister's backoff, 1 s, 2 s, 4 s, then the visibility
 * timeout — runtime/persister/retry.ts), resume on its own, and store everything that was enqueued, once and in
 * order.
 * The outage is kept shorter than maxReceiveCount × visibility: longer ones move messages to the DLQ by
 * design, where `npm run dlq -- redrive inbound` brings them back. The outage counts from the stop until the
 * emulator answers again, so its restart time (about 0.5 s for dynalite, seconds for DynamoDB Local's JVM) is
 * measured once before the load and taken off the pause.
 * Rounds are separate outages: the next one starts only once everything sent before it is stored. Records still
 * in their backoff when DynamoDB returns come back up to 4 s later; an outage that began before they did would
 * add to the one they already spent receives on (two 6 s outages about 2.5 s apart dead-lettered 5 records, each
 * received five times across both), which is longer than the redrive budget this scenario keeps inside.
 */
import { queues } from "../../../runtime/contracts";
import { drainQueue } from "../../support/emulated";
import { audit, createGroups, enqueue, inbound, totalStored } from "../../support/pipeline";
import { sleep, timeUntil } from "../../support/timing";
import type { ChaosContext, ScenarioResult } from "../kit";

export async function dynamodbOutage(
  ctx: ChaosContext,
  opts: { rounds: number; outageMs?: number },
): Promise<ScenarioResult> {
  const { stack, sqs, db } = ctx;
  const outageMs = opts.outageMs ?? 3_000;
  const maxOutageMs = queues.inbound.maxReceiveCount * 2_000;
  if (outageMs >= maxOutageMs)
    throw new Error(`outageMs must stay below ${maxOutageMs} (maxReceiveCount × visibility)`);
  const failures: string[] = [];
  const recoveryMs: number[] = [];
  const drainedMs: number[] = [];
  const ids = await createGroups(db, 6);
  const expected = new Map(ids.map((c) => [c, [] as string[]]));
  let sent = 0;
  const restartStarted = Date.now();
  await stack.emulators.dynamodb.restart();
  const restartMs = Date.now() - restartStarted;
  const outages: number[] = [];

  for (let round = 0; round < opts.rounds; round++) {
    let producing = true;
    // The gateways' side of the load: SQS stays up, so every one of these was accepted.
    const producer = (async () => {
      while (producing) {
        const items = ids.map((c) => {
          const m = inbound(c, `o${round}-${sent}-${c.slice(-4)}`);
          expected.get(c)!.push(m.clientMessageId);
          return { body: m, group: c };
        });
        sent += items.length;
        await enqueue(sqs, stack.provisioned.queueUrls.inbound, items);
        await sleep(60);
      }
    })();
    await sleep(800);
    const before = await totalStored(db, ids);
    const stoppedAt = Date.now();
    await stack.emulators.dynamodb.stop();
    await sleep(Math.max(0, outageMs - restartMs));
    await stack.emulators.dynamodb.restart();
    const restartedAt = Date.now();
    outages.push(restartedAt - stoppedAt);
    if (restartedAt - stoppedAt >= maxOutageMs) {
      failures.push(`DynamoDB was down ${restartedAt - stoppedAt} ms, beyond the ${maxOutageMs} ms DLQ budget`);
    }
    // Recovery: the first message stored after DynamoDB is back.
    await timeUntil("progress after the outage", async () => (await totalStored(db, ids)) > before, 30_000).catch(
      (err: Error) => failures.push(err.message),
    );
    recoveryMs.push(Date.now() - restartedAt);
    await sleep(500);
    producing = false;
    await producer;
    await timeUntil(`round ${round + 1}: all ${sent} stored`, async () => (await totalStored(db, ids)) >= sent, 60_000)
      .then(() => drainedMs.push(Date.now() - restartedAt))
      .catch((err: Error) => failures.push(err.message));
    ctx.log(
      `dynamodb-outage round ${round + 1}: recovered ${recoveryMs.at(-1)} ms, drained ${drainedMs.at(-1)} ms after restart`,
    );
  }
  const runner = stack.runner;
  if (!runner || runner.child.exitCode !== null || runner.child.signalCode !== null) {
    failures.push("the persister runner died during the outage");
  }
  const dead = await drainQueue(sqs, stack.provisioned.dlqUrls.inbound);
  if (dead.length) failures.push(`${dead.length} messages dead-lettered`);
  const a = await audit(db, expected);
  if (a.gaps) failures.push(`${a.gaps} seq gaps`);
  return {
    scenario: "DynamoDB stopped + restarted under load",
    rounds: opts.rounds,
    messages: sent,
    lost: a.lost,
    duplicated: a.duplicated,
    reordered: a.reordered,
    acceptedBadInput: 0,
    recoveryMs,
    failures,
    notes: `${outageMs} ms outage per round (${stack.emulators.dynamodb.name} restarts in ${restartMs} ms; stop → answering: ${outages.join(", ")} ms); recovery = DynamoDB back → next message stored; backlog stored ${drainedMs.join(", ")} ms after restart`,
  };
}
