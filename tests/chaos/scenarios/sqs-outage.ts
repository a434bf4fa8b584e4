/**
 * SQS (fauxqs) stopped and restarted while a client keeps sending through a gateway. During the outage every
 * send must be answered with an error, never a false `accepted`; the client resends those (same
 * clientMessageId) once SQS is back; the gateways' notification consumers and the persister runner recover
 * on their own; every message ends stored once, in order, and delivered to the other member.
 * fauxqs keeps queues in memory, so the scenario waits for a quiet moment (inbound drained) before the stop
 * and re-provisions the queues after the restart — in AWS the queue is durable and neither step exists.
 */
import { LOCAL_PREFIX } from "../../../runtime/local/stack";
import { provisionEmulators } from "../../../runtime/local/provision";
import { api, Client } from "../../support/clients";
import { signup } from "../../support/users";
import { audit, queueCounts, totalStored } from "../../support/pipeline";
import { sleep, timeUntil } from "../../support/timing";
import type { ChaosContext, ScenarioResult } from "../kit";

export async function sqsOutage(
  ctx: ChaosContext,
  opts: { rounds: number; outageMs?: number },
): Promise<ScenarioResult> {
  const { stack } = ctx;
  const [gw1, gw2] = stack.gateways;
  if (!gw1) throw new Error("sqs-outage needs a stack with gateways");
  const failures: string[] = [];
  const recoveryMs: number[] = [];
  const alice = await signup(gw1.url, "out_a");
  const bob = await signup((gw2 ?? gw1).url, "out_b");
  const created = await api(gw1.url, "POST", "/api/conversations", { kind: "direct", userId: bob.userId }, alice.token);
  const conversationId: string = created.body.conversation.conversationId;
  const sender = await Client.connect(gw1.url, alice.token, { name: "sender" });
  const receiver = await Client.connect((gw2 ?? gw1).url, bob.token, { name: "receiver" });
  const sent: string[] = [];
  let falseAccepted = 0;
  let refusedDuringOutage = 0;

  const sendOnce = async (clientMessageId: string): Promise<"accepted" | string> => {
    const answer = sender.next(
      (f) =>
        (f.type === "accepted" || f.type === "error") &&
        (f.clientMessageId ?? f.ref?.clientMessageId) === clientMessageId,
      30_000,
    );
    sender.send({ type: "send", conversationId, clientMessageId, body: `outage ${clientMessageId}` });
    const f = await answer;
    return f.type === "accepted" ? "accepted" : f.code;
  };

  try {
    for (let round = 0; round < opts.rounds; round++) {
      for (let i = 0; i < 15; i++) {
        const id = `so${round}-before-${i}`;
        sent.push(id);
        if ((await sendOnce(id)) !== "accepted") failures.push(`${id} refused before the outage`);
      }
      await timeUntil(
        "quiet moment",
        async () => (await queueCounts(ctx.sqs, stack.provisioned.queueUrls.inbound)).total === 0,
      );
      await stack.emulators.sqs.stop();
      const pending: string[] = [];
      const outageEnds = Date.now() + (opts.outageMs ?? 3_000);
      for (let i = 0; Date.now() < outageEnds; i++) {
        const id = `so${round}-during-${i}`;
        const outcome = await sendOnce(id);
        if (outcome === "accepted") falseAccepted++;
        else {
          refusedDuringOutage++;
          if (outcome !== "UNAVAILABLE") failures.push(`${id}: ${outcome} instead of UNAVAILABLE`);
        }
        sent.push(id);
        pending.push(id);
        await sleep(100);
      }
      await stack.emulators.sqs.restart();
      const restartedAt = Date.now();
      await provisionEmulators(stack.emulators, LOCAL_PREFIX, { visibilityTimeoutSeconds: { inbound: 2 } });
      // The client resends what was not accepted, as a client with an outbox does.
      for (const id of pending) {
        await timeUntil(`${id} accepted after the outage`, async () => (await sendOnce(id)) === "accepted", 30_000);
        if (id === pending[0]) recoveryMs.push(Date.now() - restartedAt);
      }
      await timeUntil(
        "all stored",
        async () => (await totalStored(ctx.db, [conversationId])) >= sent.length,
        60_000,
      ).catch((err: Error) => failures.push(err.message));
      await receiver
        .waitForMessages(conversationId, sent.length, 30_000)
        .catch((err: Error) => failures.push(`live delivery after the outage: ${err.message}`));
      ctx.log(`sqs-outage round ${round + 1}: ${pending.length} refused during the outage, all resent`);
    }
  } finally {
    await sender.close();
    await receiver.close();
  }
  for (const p of [stack.runner, ...stack.gateways.map((g) => g.process)]) {
    if (p && (p.child.exitCode !== null || p.child.signalCode !== null)) failures.push(`${p.name} died`);
  }
  const a = await audit(ctx.db, new Map([[conversationId, sent]]));
  const delivered = new Set(receiver.messages(conversationId).map((f) => f.seq)).size;
  if (a.gaps) failures.push(`${a.gaps} seq gaps`);
  return {
    scenario: "SQS stopped + restarted under sends (gateway + persister)",
    rounds: opts.rounds,
    messages: sent.length,
    lost: a.lost + Math.max(0, sent.length - delivered),
    duplicated: a.duplicated,
    reordered: a.reordered,
    acceptedBadInput: falseAccepted,
    recoveryMs,
    failures,
    notes: `${refusedDuringOutage} sends during the outage answered UNAVAILABLE, ${falseAccepted} falsely accepted; recovery = SQS back → first resend accepted`,
  };
}
