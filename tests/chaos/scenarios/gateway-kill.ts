/**
 * A gateway SIGKILLed during fan-out: the members of a group are connected to the victim while a sender on a
 * survivor streams messages. The members reconnect to the survivor and resume with `sync` from their cursor,
 * deduping by (conversationId, seq) as the web client does. Every member must end with every accepted message
 * exactly once, in the stored order; the victim is restarted for the next round.
 */
import { api, Client, type Frame } from "../../support/clients";
import { signup, type TestUser } from "../../support/users";
import { audit } from "../../support/pipeline";
import { sleep, timeUntil } from "../../support/timing";
import type { ChaosContext, ScenarioResult } from "../kit";

/** One send per this many ms at most: 16 a second, under the default 20 frames a second per socket. */
const SEND_INTERVAL_MS = 60;

/** A member's client: reconnects on close, syncs from its last contiguous seq, dedupes by seq. */
class Follower {
  readonly bySeq = new Map<number, string>();
  rawDeliveries = 0;
  conflicts = 0;
  syncedAt = 0;
  client?: Client;

  constructor(
    readonly user: TestUser,
    private readonly conversationId: string,
  ) {}

  get contiguous(): number {
    let s = 0;
    while (this.bySeq.has(s + 1)) s++;
    return s;
  }

  async attach(url: string): Promise<void> {
    const client = await Client.connect(url, this.user.token, { name: this.user.userId });
    this.client = client;
    const seen = (f: Frame) => {
      if (f.type === "message" && f.conversationId === this.conversationId) {
        this.rawDeliveries++;
        const prior = this.bySeq.get(f.seq);
        if (prior !== undefined && prior !== f.clientMessageId) this.conflicts++;
        this.bySeq.set(f.seq, f.clientMessageId);
      }
      if (f.type === "synced") this.syncedAt = Date.now();
    };
    client.frames.forEach(seen);
    client.ws.on("message", (d) => seen(JSON.parse(d.toString()) as Frame));
    client.send({ type: "sync", cursors: [{ conversationId: this.conversationId, afterSeq: this.contiguous }] });
  }
}

export async function gatewayKill(
  ctx: ChaosContext,
  opts: { rounds: number; messagesPerRound?: number },
): Promise<ScenarioResult> {
  const { stack } = ctx;
  const [survivor, victim] = stack.gateways;
  if (!survivor || !victim) throw new Error("gateway-kill needs a stack with 2 gateways");
  const perRound = opts.messagesPerRound ?? 40;
  const failures: string[] = [];
  const recoveryMs: number[] = [];

  const sender = await signup(survivor.url, "chaos_s");
  const members = [await signup(survivor.url, "chaos_m1"), await signup(survivor.url, "chaos_m2")];
  const created = await api(
    survivor.url,
    "POST",
    "/api/conversations",
    { kind: "group", title: "chaos", memberIds: members.map((m) => m.userId) },
    sender.token,
  );
  if (created.status !== 201) throw new Error(`create conversation: ${created.status}`);
  const conversationId: string = created.body.conversation.conversationId;
  const sent: string[] = [];
  const senderClient = await Client.connect(survivor.url, sender.token, { name: "sender" });
  const followers = members.map((m) => new Follower(m, conversationId));

  /**
   * Sends until accepted: an UNAVAILABLE error means "not accepted, resend" (same clientMessageId). Paced below
   * the gateway's frame rate limit, as a real client is: a sender that streams faster collects RATE_LIMITED
   * refusals, and the one past `maxRateViolations` is not answered but closes the socket (protocol.md).
   */
  let nextSendAt = 0;
  const sendAccepted = async (clientMessageId: string) => {
    for (let attempt = 0; attempt < 20; attempt++) {
      await sleep(Math.max(0, nextSendAt - Date.now()));
      nextSendAt = Date.now() + SEND_INTERVAL_MS;
      const answer = senderClient.next(
        (f) =>
          (f.type === "accepted" || f.type === "error") &&
          (f.clientMessageId ?? f.ref?.clientMessageId) === clientMessageId,
        15_000,
      );
      senderClient.send({ type: "send", conversationId, clientMessageId, body: `chaos ${clientMessageId}` });
      if ((await answer).type === "accepted") return;
      await sleep(200);
    }
    throw new Error(`${clientMessageId} never accepted`);
  };

  try {
    for (let round = 0; round < opts.rounds; round++) {
      await Promise.all(followers.map((f) => f.attach(victim.url)));
      const killAfter = Math.floor(perRound / 4 + ctx.random() * (perRound / 2));
      let killedAt = 0;
      for (let i = 0; i < perRound; i++) {
        const id = `gk${round}-${i}`;
        sent.push(id);
        await sendAccepted(id);
        if (i === killAfter) {
          await victim.process.kill();
          killedAt = Date.now();
          // The members notice the dead socket and move to the survivor, as the web client does on 1006.
          void Promise.all(
            followers.map(async (f) => {
              await f.client!.closed(10_000).catch(() => undefined);
              f.syncedAt = 0;
              await f.attach(survivor.url);
            }),
          );
        }
      }
      await timeUntil(
        `members caught up after round ${round + 1}`,
        async () => followers.every((f) => f.contiguous >= sent.length && f.syncedAt > 0),
        60_000,
      ).catch((err: Error) => failures.push(err.message));
      recoveryMs.push(...followers.map((f) => f.syncedAt - killedAt));
      ctx.log(
        `gateway-kill round ${round + 1}: ${sent.length} messages, members at ${followers.map((f) => f.contiguous).join("/")}`,
      );
      await Promise.all(followers.map((f) => f.client?.close()));
      await victim.restart();
    }
  } finally {
    await senderClient.close();
    await Promise.all(followers.map((f) => f.client?.close()));
  }

  const a = await audit(ctx.db, new Map([[conversationId, sent]]));
  let lost = a.lost;
  let reordered = a.reordered;
  for (const f of followers) {
    const got = [...f.bySeq.entries()].sort((x, y) => x[0] - y[0]).map(([, id]) => id);
    lost += sent.filter((id) => !got.includes(id)).length;
    if (got.join() !== sent.filter((id) => got.includes(id)).join()) reordered++;
    if (f.conflicts) failures.push(`${f.user.userId}: ${f.conflicts} seqs delivered with two different messages`);
  }
  if (a.gaps) failures.push(`${a.gaps} seq gaps`);
  const raw = followers.reduce((n, f) => n + f.rawDeliveries, 0);
  return {
    scenario: "gateway SIGKILL during fan-out, clients resume on a survivor",
    rounds: opts.rounds,
    messages: sent.length,
    lost,
    duplicated: a.duplicated,
    reordered,
    acceptedBadInput: 0,
    recoveryMs,
    failures,
    notes: `${followers.length} members × ${sent.length} messages; ${raw} deliveries before client dedupe (${raw - followers.length * sent.length} repeats, absorbed by seq); recovery = kill → member synced on the survivor`,
  };
}
