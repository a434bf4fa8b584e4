/** The benchmark's bookkeeping: population shape, the open-loop plan, and how deliveries are judged. */
import { bodyFor, PhaseRecorder, PhaseSink } from "../../bench/load";
import { buildPopulation, planMessages } from "../../bench/workload";

describe("buildPopulation", () => {
  it("puts 1,000 clients in 3×100, 30×10 and 200×2, each conversation spanning both gateways", () => {
    const pop = buildPopulation(1000, 2, "t");
    const sizes = pop.conversations.map((c) => c.size);
    expect(sizes.filter((s) => s === 100)).toHaveLength(3);
    expect(sizes.filter((s) => s === 10)).toHaveLength(30);
    expect(sizes.filter((s) => s === 2)).toHaveLength(200);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(1000);
    for (const c of pop.conversations) expect(new Set(c.members.map((m) => pop.gatewayOf[m])).size).toBe(2);
    expect(pop.conversationOf.every((c) => c >= 0)).toBe(true);
  });

  it("gives an odd client out to the last pair", () => {
    const pop = buildPopulation(7, 2, "t");
    expect(pop.conversations.map((c) => c.size).reduce((a, b) => a + b, 0)).toBe(7);
    expect(pop.conversations[pop.conversations.length - 1]!.size).toBe(3);
  });
});

describe("planMessages", () => {
  it("is deterministic for a seed, evenly spaced, and numbers each sender's messages 1, 2, 3 …", () => {
    const pop = buildPopulation(100, 2, "t");
    const a = planMessages(pop, 200, 2, 7);
    expect(a).toEqual(planMessages(pop, 200, 2, 7));
    expect(a).not.toEqual(planMessages(pop, 200, 2, 8));
    expect(a).toHaveLength(400);
    expect(a[1]!.dueMs - a[0]!.dueMs).toBeCloseTo(5);
    const seqs = new Map<number, number[]>();
    for (const p of a) seqs.set(p.sender, [...(seqs.get(p.sender) ?? []), p.senderSeq]);
    for (const list of seqs.values()) expect(list).toEqual(list.map((_, i) => i + 1));
    for (const p of a) expect(pop.conversations[p.conversation]!.members).toContain(p.sender);
  });
});

describe("PhaseRecorder", () => {
  const pop = buildPopulation(4, 2, "t"); // two pairs: clients 0+1 and 2+3
  const plan = [
    { conversation: 0, sender: 0, senderSeq: 1, dueMs: 0 },
    { conversation: 0, sender: 0, senderSeq: 2, dueMs: 10 },
    { conversation: 1, sender: 3, senderSeq: 1, dueMs: 20 },
  ];

  it("counts deliveries, duplicates, reorderings, echoes and strays separately", () => {
    const r = new PhaseRecorder("p0", pop, plan);
    r.startedAt = performance.timeOrigin + performance.now();
    const body = (m: number) => bodyFor("p0", m, r.startedAt + plan[m]!.dueMs, 40);
    expect(r.expected).toBe(3);
    r.onMessage(1, "a", body(1));
    r.onMessage(1, "a", body(0)); // sender 0's seq went 2 → 1 at receiver 1
    r.onMessage(1, "a", body(0)); // the same delivery again
    r.onMessage(0, "a", body(0)); // the sender's own echo
    r.onMessage(2, "d", body(2));
    r.onMessage(2, "d", bodyFor("x9", 2, 0, 40)); // another phase's message
    expect({
      delivered: r.delivered,
      duplicates: r.duplicates,
      orderViolations: r.orderViolations,
      echoes: r.echoes,
      strays: r.strays,
    }).toEqual({ delivered: 3, duplicates: 1, orderViolations: 1, echoes: 1, strays: 1 });
    expect(r.e2e.totalCount).toBe(3);
  });

  it("flags a Parley seq going down at a receiver", () => {
    const r = new PhaseRecorder("p0", pop, plan);
    r.startedAt = Date.now();
    const body = (m: number) => bodyFor("p0", m, r.startedAt + plan[m]!.dueMs, 40);
    r.onMessage(1, "a", body(0), { seq: 5, sentAt: r.startedAt, storedAt: r.startedAt + 3 });
    r.onMessage(1, "a", body(1), { seq: 4, sentAt: r.startedAt, storedAt: r.startedAt + 4 });
    expect(r.orderViolations).toBe(1);
    expect(r.acceptedToStored.totalCount).toBe(2);
  });

  it("is reached through PhaseSink by tag, so late deliveries still count for their own phase", () => {
    const sink = new PhaseSink();
    const first = new PhaseRecorder("p0", pop, plan);
    const second = new PhaseRecorder("p1", pop, plan);
    sink.register(first);
    sink.register(second);
    sink.onMessage(1, "a", bodyFor("p0", 0, Date.now(), 40));
    sink.onAccepted(0, "p0-1");
    sink.onError(0, "UNAVAILABLE", "p0-1");
    sink.onMessage(1, "a", bodyFor("zz", 0, Date.now(), 40));
    expect([first.delivered, second.delivered, sink.strays]).toEqual([1, 0, 1]);
    expect(first.acceptedCount).toBe(1);
    expect(first.errors).toEqual({ UNAVAILABLE: 1 });
    expect(second.errors).toEqual({});
  });
});
