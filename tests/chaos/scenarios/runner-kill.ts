/**
 * The persister runner SIGKILLed at random points while it works through batches, then restarted — like a
 * Lambda invocation cut off mid-batch. Each round enqueues fresh traffic so the kill lands mid-work.
 */
import { audit, createGroups, enqueue, inbound, queueCounts, totalStored } from "../../support/pipeline";
import { sleep, timeUntil } from "../../support/timing";
import type { ChaosContext, ScenarioResult } from "../kit";

export interface RunnerKillOptions {
  readonly rounds: number;
  readonly conversations?: number;
  readonly perRound?: number;
}

export async function runnerKill(ctx: ChaosContext, opts: RunnerKillOptions): Promise<ScenarioResult> {
  const { stack, sqs, db } = ctx;
  const perRound = opts.perRound ?? 30;
  const ids = await createGroups(db, opts.conversations ?? 6);
  const expected = new Map(ids.map((c) => [c, [] as string[]]));
  const recoveryMs: number[] = [];
  const failures: string[] = [];
  let sent = 0;
  let killedMidWork = 0;

  for (let round = 0; round < opts.rounds; round++) {
    const items = Array.from({ length: perRound }, (_, i) => {
      const c = ids[(sent + i) % ids.length]!;
      const m = inbound(c, `r${round}-${i}`);
      expected.get(c)!.push(m.clientMessageId);
      return { body: m, group: c };
    });
    const roundStart = await totalStored(db, ids);
    sent += items.length;
    await enqueue(sqs, stack.provisioned.queueUrls.inbound, items);
    // Kill only once the runner is visibly working on this round (so the kill lands mid-batch on a fast idle
    // machine too), at a random point after that.
    const deadline = Date.now() + 30_000;
    while ((await totalStored(db, ids)) <= roundStart && Date.now() < deadline) await sleep(20);
    await sleep(Math.floor(ctx.random() * 150));
    await stack.runner!.kill();
    const killedAt = Date.now();
    const atKill = await totalStored(db, ids);
    if (atKill < sent && (await queueCounts(sqs, stack.provisioned.queueUrls.inbound)).total > 0) killedMidWork++;
    await stack.startRunner();
    const target = Math.min(sent, atKill + 1);
    await timeUntil(`progress after kill ${round + 1}`, async () => (await totalStored(db, ids)) >= target, 30_000);
    recoveryMs.push(Date.now() - killedAt);
    ctx.log(`runner-kill round ${round + 1}/${opts.rounds}: ${atKill}/${sent} stored at kill`);
  }
  await timeUntil(`all ${sent} stored`, async () => (await totalStored(db, ids)) === sent, 60_000);
  const a = await audit(db, expected);
  if (a.gaps) failures.push(`${a.gaps} seq gaps`);
  if (a.unexpected) failures.push(`${a.unexpected} unexpected messages`);
  if (killedMidWork < Math.ceil(opts.rounds / 2)) {
    failures.push(`only ${killedMidWork}/${opts.rounds} kills landed while work was pending`);
  }
  return {
    scenario: "persister runner SIGKILL mid-batch",
    rounds: opts.rounds,
    messages: sent,
    lost: a.lost,
    duplicated: a.duplicated,
    reordered: a.reordered,
    acceptedBadInput: 0,
    recoveryMs,
    failures,
    notes: `${killedMidWork}/${opts.rounds} kills with work pending; recovery = kill → next message stored (incl. process restart)`,
  };
}
