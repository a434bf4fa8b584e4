/**
 * Poison messages of every kind the persister can meet: not JSON, failing the inbound schema, for a
 * conversation that does not exist, from a non-member. Exactly those must reach the inbound DLQ after
 * maxReceiveCount; other conversations keep flowing meanwhile, and messages queued behind a poison message in
 * its own conversation are stored, in order, once it is dead-lettered.
 */
import { queues } from "../../../runtime/contracts";
import { drainQueue } from "../../support/emulated";
import {
  allMessages,
  audit,
  createGroups,
  enqueue,
  inbound,
  newGroupId,
  queueCounts,
  totalStored,
  type EnqueueItem,
} from "../../support/pipeline";
import { sleep, timeUntil } from "../../support/timing";
import type { ChaosContext, ScenarioResult } from "../kit";

export async function poisonMessages(ctx: ChaosContext, opts: { rounds: number }): Promise<ScenarioResult> {
  const { stack, sqs, db } = ctx;
  const inboundUrl = stack.provisioned.queueUrls.inbound;
  const dlqUrl = stack.provisioned.dlqUrls.inbound;
  const failures: string[] = [];
  const recoveryMs: number[] = [];
  const expected = new Map<string, string[]>();
  const poison = new Set<string>();
  let messages = 0;
  let acceptedBadInput = 0;

  for (let round = 0; round < opts.rounds; round++) {
    const [blocked, notJson, badSchema, ...healthy] = await createGroups(db, 7);
    const ghost = newGroupId(); // never created
    const items: EnqueueItem[] = [];
    const add = (c: string, id: string, sender = "alice") => {
      const m = inbound(c, id, sender);
      if (!expected.has(c)) expected.set(c, []);
      expected.get(c)!.push(id);
      items.push({ body: m, group: c });
    };
    const addPoison = (group: string, body: string) => {
      poison.add(body);
      items.push({ body, group });
    };
    add(blocked!, "before");
    addPoison(blocked!, JSON.stringify(inbound(blocked!, "intruder", "mallory")));
    add(blocked!, "after-1");
    add(blocked!, "after-2");
    addPoison(notJson!, `{not json ${round}`);
    addPoison(badSchema!, JSON.stringify({ ...inbound(badSchema!, "blank"), body: "   " }));
    addPoison(ghost, JSON.stringify(inbound(ghost, "to-nowhere")));
    for (let i = 0; i < 15; i++) for (const h of healthy) add(h!, `h${i}`);
    messages += items.length - 4;

    const started = Date.now();
    const deadBefore = (await queueCounts(sqs, dlqUrl)).total;
    await enqueue(sqs, inboundUrl, items);
    // Others keep flowing: healthy messages are stored while the poison is still being retried, not after it
    // was dead-lettered. (Absolute times mean little on a loaded machine; this order does.)
    let firstHealthyMs: number | undefined;
    let firstDeadMs: number | undefined;
    let healthyMs = 0;
    for (;;) {
      const stored = await totalStored(db, healthy as string[]);
      const t = Date.now() - started;
      if (stored > 0) firstHealthyMs ??= t;
      if ((await queueCounts(sqs, dlqUrl)).total > deadBefore) firstDeadMs ??= t;
      if (stored === 15 * healthy.length) {
        healthyMs = t;
        break;
      }
      if (t > 60_000) throw new Error(`healthy conversations stuck at ${stored}/${15 * healthy.length}`);
      await sleep(50);
    }
    if (firstDeadMs !== undefined && (firstHealthyMs === undefined || firstHealthyMs > firstDeadMs)) {
      failures.push(
        `healthy traffic waited for the poison: first stored at ${firstHealthyMs} ms, first dead letter at ${firstDeadMs} ms`,
      );
    }
    const retryWindowMs = queues.inbound.maxReceiveCount * 2_000;
    await timeUntil(
      "messages behind the poison stored",
      async () => (await totalStored(db, [blocked!])) === 3,
      retryWindowMs * 3 + 30_000,
    );
    recoveryMs.push(Date.now() - started);
    ctx.log(
      `poison round ${round + 1}: healthy first stored at ${firstHealthyMs} ms, all at ${healthyMs} ms; first dead letter at ${firstDeadMs ?? "–"} ms; blocked group resumed after ${Date.now() - started} ms`,
    );
    // Nothing is ever stored for a conversation that does not exist.
    acceptedBadInput += (await allMessages(db, ghost)).length;
  }

  await timeUntil(
    "every poison message in the DLQ",
    async () => (await queueCounts(sqs, dlqUrl)).total >= poison.size,
    30_000,
  );
  const dead = await drainQueue(sqs, dlqUrl);
  const unexpectedDead = dead.filter((b) => !poison.has(b));
  const missingDead = [...poison].filter((b) => !dead.includes(b));
  if (unexpectedDead.length) failures.push(`${unexpectedDead.length} healthy messages dead-lettered`);
  if (missingDead.length) failures.push(`${missingDead.length} poison messages not in the DLQ`);
  if (dead.length !== new Set(dead).size) failures.push("a poison message was dead-lettered twice");
  const a = await audit(db, expected);
  acceptedBadInput += a.unexpected;
  if (a.gaps) failures.push(`${a.gaps} seq gaps`);
  return {
    scenario: "poison messages → DLQ",
    rounds: opts.rounds,
    messages,
    lost: a.lost,
    duplicated: a.duplicated,
    reordered: a.reordered,
    acceptedBadInput,
    recoveryMs,
    failures,
    notes: `${poison.size} poison (4 kinds) → exactly ${dead.length} dead letters; recovery = enqueue → blocked conversation resumed (the persister makes poison visible at once: its maxReceiveCount ${queues.inbound.maxReceiveCount} receives burn without waiting out the visibility timeout)`,
  };
}
