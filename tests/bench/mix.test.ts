/** The mixed workload's bookkeeping (bench/mix.ts): its plan, what each entry targets, and how deliveries count. */
import { bodyFor, PhaseSink, type ParleyFrame } from "../../bench/load";
import { MixRecorder, MixTargets, MIX_EMOJI, planMix, RECENT_MESSAGES, type PlannedEntry } from "../../bench/mix";
import { parseMix } from "../../bench/options";
import type { MixPhaseCost, MixReport } from "../../bench/phase-reports";
import { mixSection } from "../../bench/report";
import { buildPopulation } from "../../bench/workload";

const message = (seq: number, senderId: string, extra: Partial<ParleyFrame> = {}): ParleyFrame => ({
  type: "message",
  seq,
  senderId,
  ...extra,
});

describe("planMix", () => {
  const pop = buildPopulation(100, 2, "t");

  it("is deterministic for a seed, evenly spaced, and draws kinds by their shares", () => {
    const shares = parseMix("messages=80,reactions=10,edits=5,receipts=5", "--mix");
    const plan = planMix(pop, shares, 200, 20, 7);
    expect(plan).toEqual(planMix(pop, shares, 200, 20, 7));
    expect(plan).not.toEqual(planMix(pop, shares, 200, 20, 8));
    expect(plan).toHaveLength(4000);
    expect(plan[1]!.dueMs - plan[0]!.dueMs).toBeCloseTo(5);
    const share = (k: string) => plan.filter((p) => p.kind === k).length / plan.length;
    expect(share("messages")).toBeGreaterThan(0.77);
    expect(share("messages")).toBeLessThan(0.83);
    for (const k of ["reactions", "edits", "receipts"]) {
      expect(share(k)).toBeGreaterThan(k === "reactions" ? 0.08 : 0.035);
      expect(share(k)).toBeLessThan(k === "reactions" ? 0.12 : 0.065);
    }
    for (const p of plan) expect(pop.conversations[p.conversation]!.members).toContain(p.sender);
  });

  it("never plans a kind whose share is 0", () => {
    const plan = planMix(pop, parseMix("messages=50,receipts=50", "--mix"), 100, 10, 3);
    expect(new Set(plan.map((p) => p.kind))).toEqual(new Set(["messages", "receipts"]));
    expect(new Set(planMix(pop, parseMix("edits=1,messages=99", "--mix"), 100, 1, 3).map((p) => p.kind))).toEqual(
      new Set(["messages", "edits"]),
    );
  });
});

describe("MixTargets", () => {
  // Three pairs: clients 0+1, 2+3 and 4+5.
  const pop = buildPopulation(6, 2, "t");
  const [u0, u1] = [pop.userIds[0]!, pop.userIds[1]!];
  const rnd = () => 0.5;

  it("reacts on a recent message of the conversation, toggling off what the client has on", () => {
    const t = new MixTargets(pop);
    expect(t.reaction(0, rnd)).toBeUndefined();
    t.observe(0, message(1, u1));
    t.observe(0, { type: "event", kind: "react", seq: 2, senderId: u1 });
    const first = t.reaction(0, rnd)!;
    expect(first).toEqual({ seq: 1, emoji: MIX_EMOJI[3], on: true });
    expect(t.reaction(0, rnd)).toEqual({ ...first, on: false });
    expect(t.reaction(0, rnd)).toEqual({ ...first, on: true });
  });

  it("keeps the newest messages only, and never a deleted one", () => {
    const t = new MixTargets(pop);
    for (let seq = 1; seq <= RECENT_MESSAGES + 5; seq++) t.observe(0, message(seq, u1));
    t.observe(0, message(100, u1, { deleted: true }));
    const picked = new Set(Array.from({ length: 50 }, (_, k) => t.reaction(0, () => (k % 10) / 10)!.seq));
    expect(Math.min(...picked)).toBe(6);
    expect(Math.max(...picked)).toBe(RECENT_MESSAGES + 5);
  });

  it("edits the planned sender's own message, or another member's own one when it has none", () => {
    const t = new MixTargets(pop);
    const pair = pop.conversations[0]!.members;
    expect(t.edit(pair, 0, rnd)).toBeUndefined();
    t.observe(1, message(1, u1));
    t.observe(0, message(1, u1));
    expect(t.edit(pair, 0, rnd)).toEqual({ sender: 1, seq: 1 });
    t.observe(0, message(2, u0));
    expect(t.edit(pair, 0, rnd)).toEqual({ sender: 0, seq: 2 });
  });

  it("reads one entry on, by a member with something unread; one's own message counts as read", () => {
    const t = new MixTargets(pop);
    const pair = pop.conversations[0]!.members;
    expect(t.receipt(pair, 0)).toBeUndefined();
    t.observe(0, message(1, u0));
    t.observe(1, message(1, u0));
    expect(t.receipt(pair, 0)).toEqual({ reader: 1, seq: 1 });
    expect(t.receipt(pair, 0)).toBeUndefined();
    t.observe(0, { type: "event", kind: "edit", seq: 2, senderId: u1 });
    t.observe(0, message(3, u1));
    expect(t.receipt(pair, 1)).toEqual({ reader: 0, seq: 2 });
    expect(t.receipt(pair, 1)).toEqual({ reader: 0, seq: 3 });
    expect(t.receipt(pair, 1)).toBeUndefined();
    // An entry of one's own (a reaction here) moves one's read position to it, as the gateway does.
    t.observe(0, message(4, u1));
    t.observe(0, { type: "event", kind: "react", seq: 5, senderId: u0 });
    t.observe(0, message(6, u1));
    expect(t.receipt(pair, 1)).toEqual({ reader: 0, seq: 6 });
  });

  it("starts from the seqs a client has and its stored read position", () => {
    const t = new MixTargets(pop);
    const pair = pop.conversations[0]!.members;
    t.start(0, 9, 7);
    t.start(1, 9, 9);
    expect(t.receipt(pair, 1)).toEqual({ reader: 0, seq: 8 });
    expect(t.receipt(pair, 1)).toEqual({ reader: 0, seq: 9 });
    expect(t.receipt(pair, 1)).toBeUndefined();
  });
});

describe("MixRecorder", () => {
  // Clients 0+1 and 2+3; the second pair is where the plan's entries go.
  const pop = buildPopulation(4, 2, "t");
  const conversation = pop.conversationOf[2]!;
  const plan: PlannedEntry[] = [
    { kind: "messages", conversation, sender: 2, dueMs: 0 },
    { kind: "reactions", conversation, sender: 3, dueMs: 10 },
    { kind: "edits", conversation, sender: 2, dueMs: 20 },
    { kind: "receipts", conversation, sender: 3, dueMs: 30 },
    { kind: "reactions", conversation, sender: 2, dueMs: 40 },
  ];

  it("counts each kind's sends, acceptances and deliveries to the other member, through PhaseSink", () => {
    const sink = new PhaseSink();
    const r = new MixRecorder("mx", pop, plan);
    sink.register(r);
    r.startedAt = performance.timeOrigin + performance.now();
    for (const i of [0, 1, 2]) r.sent(i, plan[i]!.sender);
    r.sent(3, 3, 4);
    r.skipped(4);
    expect(r.expected).toBe(3);

    sink.onAccepted(2, "mx-0");
    sink.onMessage(2, pop.userIds[2]!, bodyFor("mx", 0, 0, 50), { seq: 3, sentAt: 1, storedAt: 2 }); // echo
    sink.onMessage(3, pop.userIds[2]!, bodyFor("mx", 0, 0, 50), { seq: 3, sentAt: 1, storedAt: 2 });
    sink.onMessage(3, pop.userIds[2]!, bodyFor("mx", 0, 0, 50), { seq: 3, sentAt: 1, storedAt: 2 }); // again
    sink.onEvent(2, { type: "event", kind: "react", clientMessageId: "mx-1", seq: 4 });
    // An edited message replayed by sync carries the edit's body: not a message of the plan.
    sink.onMessage(3, pop.userIds[2]!, bodyFor("mx", 2, 0, 50), { seq: 3, sentAt: 1, storedAt: 2 });
    sink.onEvent(3, { type: "event", kind: "edit", clientMessageId: "mx-2", seq: 5 });
    // The reader's own receipt shows the read moved; the other member's is the delivery.
    sink.current = r;
    sink.onReceipt(3, pop.userIds[3]!, 4);
    sink.onReceipt(2, pop.userIds[3]!, 4);
    sink.onReceipt(2, pop.userIds[3]!, 3); // no read of ours
    sink.onEvent(3, { type: "event", kind: "rename", clientMessageId: "mx-2", seq: 6 });

    const k = r.kinds;
    expect([k.messages.sent, k.messages.accepted, k.messages.delivered, k.messages.duplicates]).toEqual([1, 1, 1, 1]);
    expect([k.reactions.planned, k.reactions.sent, k.reactions.skipped, k.reactions.delivered]).toEqual([2, 1, 1, 1]);
    expect([k.edits.sent, k.edits.delivered, k.edits.expected]).toEqual([1, 1, 1]);
    expect([k.receipts.sent, k.receipts.accepted, k.receipts.expected, k.receipts.delivered]).toEqual([1, 1, 1, 1]);
    expect([r.delivered, r.expected, r.strays, r.orderViolations]).toEqual([4, 4, 1, 0]);
    expect(k.messages.counts().latency.count).toBe(1);
  });

  it("counts a refused entry as an error of its kind, not as a loss, and a seq going down as an order violation", () => {
    const sink = new PhaseSink();
    const r = new MixRecorder("my", pop, plan);
    sink.register(r);
    for (const i of [0, 1, 2]) r.sent(i, plan[i]!.sender);
    sink.onError(3, "GONE", "my-1", "react");
    sink.onError(3, "GONE", "my-1", "react");
    sink.onError(3, "NOT_MEMBER", undefined, "read");
    expect(r.kinds.reactions.errors).toEqual({ GONE: 2 });
    expect(r.kinds.receipts.errors).toEqual({ NOT_MEMBER: 1 });
    expect(r.expected).toBe(2);
    sink.onEvent(3, { type: "event", kind: "edit", clientMessageId: "my-2", seq: 9 });
    sink.onMessage(3, pop.userIds[2]!, bodyFor("my", 0, 0, 50), { seq: 8, sentAt: 1, storedAt: 2 });
    expect(r.orderViolations).toBe(1);
  });
});

describe("mixSection", () => {
  const latency = { count: 1, p50: 12, p90: 20, p99: 30, p999: 30, max: 30, mean: 14 };
  const counts = (sent: number) => ({
    planned: sent,
    sent,
    skipped: 0,
    accepted: sent,
    errors: {},
    expected: sent,
    delivered: sent,
    duplicates: 0,
    latency,
  });
  const cost = (calls: number, usd: number): MixPhaseCost => ({
    entries: 10,
    seconds: 3,
    callsPerEntry: { "gw-1": { "DynamoDB.GetItem": calls + 1 } },
    callsPerEntryTotal: calls + 1,
    netCallsPerEntry: { "gw-1": { "DynamoDB.GetItem": calls } },
    netCallsPerEntryTotal: calls,
    costPerMillionUsd: { totalUsd: usd + 1, byCall: {}, assumptions: ["a"] },
    netCostPerMillionUsd: { totalUsd: usd, byCall: {}, assumptions: ["a"] },
  });
  const report: MixReport = {
    shares: { messages: 90, reactions: 10, edits: 0, receipts: 0 },
    rate: 100,
    durationS: 3,
    baselineS: 6,
    kinds: [
      { kind: "messages", sharePct: 90, mixed: counts(9), isolated: { ...counts(300), cost: cost(6, 4) } },
      { kind: "reactions", sharePct: 10, mixed: counts(1), isolated: { ...counts(290), cost: cost(2, 1.5) } },
    ],
    mixed: {
      cost: cost(5.5, 3.7),
      orderViolations: 0,
      predictedNetCallsPerEntry: 5.6,
      predictedNetCostPerMillionUsd: 3.75,
    },
  };

  it("has one row per kind in the mix, the mix measured and predicted, and calls by operation per kind", () => {
    const md = mixSection(report).join("\n");
    expect(md).toContain("## Mixed workload (Parley): messages=90,reactions=10 at 100 entries/s × 3 s");
    expect(md).toMatch(
      /\| messages \| 90 \| 9 \(0\) \| 9 \/ 9 \| 12 \/ 30 \| 300 \(0\) \| 300 \| – \| 300 \/ 300 \| .* \| 7\.00 \| 6\.00 \| \$5\.00 \| \$4\.00 \|/,
    );
    expect(md).toMatch(/\| reactions \| 10 \| .* \| 3\.00 \| 2\.00 \| \$2\.50 \| \$1\.50 \|/);
    expect(md).toMatch(/\| \*\*mix\*\* \| 100 \| 10 \| 10 \/ 10 \| .* \| 6\.50 \| 5\.50 \| \$4\.70 \| \$3\.70 \|/);
    expect(md).toMatch(/\| mix predicted from the kinds' own phases \|.*\| 5\.60 \| \| \$3\.75 \|/);
    expect(md).toContain("| call | messages | reactions | mix |");
    expect(md).toContain("| gw-1 DynamoDB.GetItem | 6.00 | 2.00 | 5.50 |");
    expect(md).not.toContain("edits");
  });
});
