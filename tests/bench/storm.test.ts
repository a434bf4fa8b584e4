/** The storm's bookkeeping: who is caught up when, the connect sample, the outage plan, costs net of idle. */
import { SeqTracker } from "../../bench/load";
import { planOutage, spreadSample, StormBook, workCost } from "../../bench/storm";
import { buildPopulation } from "../../bench/workload";

describe("SeqTracker", () => {
  it("keeps the gap-free prefix (the sync cursor) and says when a seq was already there", () => {
    const t = new SeqTracker();
    expect([t.add(1), t.add(3), t.contiguous]).toEqual([true, true, 1]);
    expect([t.add(3), t.add(1)]).toEqual([false, false]);
    expect([t.add(2), t.contiguous]).toEqual([true, 3]);
    expect([t.add(2), t.add(4), t.contiguous]).toEqual([false, true, 4]);
  });
});

describe("StormBook", () => {
  // Clients 0 and 2 were on the killed gateway; 0 is in conversation 0, 2 in conversation 1.
  const conversationOf = [0, 0, 1, 1];
  const book = (outage: Map<number, number>, prefix: number[] = [5, 0, 7, 0]) =>
    new StormBook([0, 2], conversationOf, outage, (c) => prefix[c]!, 1000);

  it("is settled when the last client is connected, synced and holds its conversation's last stored seq", () => {
    const b = book(new Map([[0, 1]]));
    b.reconnected(0, 1200);
    b.reconnected(2, 1300);
    b.synced(2, 1350); // conversation 1 had no outage message: caught up once synced
    expect(b.caughtUpAt(2)).toBe(1350);
    b.synced(0, 1250);
    expect(b.caughtUpAt(0)).toBeUndefined(); // the outage message of conversation 0 is not stored yet
    b.stored(0, 6);
    expect(b.caughtUpAt(0)).toBeUndefined(); // stored as seq 6, client 0 has up to 5
    b.advanced(0, 6, 1400);
    expect(b.caughtUpAt(0)).toBe(1400);
    expect(b.settledAt()).toBe(1400);
  });

  it("dates a client caught up by the time its prefix reached the target, even if the target was learnt later", () => {
    const b = book(new Map([[0, 1]]));
    b.reconnected(0, 1100);
    b.advanced(0, 6, 1150); // arrived live before the sender's echo told the harness its seq
    b.synced(0, 1200);
    b.stored(0, 6);
    expect(b.caughtUpAt(0)).toBe(1200);
    expect(b.settledAt()).toBeUndefined(); // client 2 never reconnected
  });

  it("needs a new ready and synced after a reconnected socket drops, and forgets refused messages", () => {
    const b = book(new Map([[1, 2]]));
    for (const c of [0, 2]) {
      b.reconnected(c, 1100);
      b.synced(c, 1150);
    }
    b.stored(1, 8);
    expect(b.caughtUpAt(2)).toBeUndefined(); // one of conversation 1's two messages is still pending
    b.refused(1);
    b.advanced(2, 8, 1500);
    expect(b.caughtUpAt(2)).toBe(1500);
    b.disconnected(0);
    expect(b.settledAt()).toBeUndefined();
    b.synced(0, 1600); // a synced without a ready first does not count
    expect(b.caughtUpAt(0)).toBeUndefined();
    b.reconnected(0, 1700);
    b.synced(0, 1750);
    expect(b.settledAt()).toBe(1750);
  });
});

describe("spreadSample", () => {
  it("spreads over the population and alternates gateways", () => {
    const s = spreadSample(100, 10, 2);
    expect(s).toHaveLength(10);
    expect(s.filter((i) => i % 2 === 0)).toHaveLength(5);
    expect(Math.max(...s)).toBeGreaterThanOrEqual(90);
    expect(spreadSample(4, 10, 2).every((i) => i >= 0 && i < 4)).toBe(true);
  });
});

describe("planOutage", () => {
  it("sends one message per conversation from a member on a surviving gateway", () => {
    const pop = buildPopulation(100, 2, "t");
    const plan = planOutage(pop, 2, 0);
    expect(plan).toHaveLength(pop.conversations.length);
    for (const p of plan) {
      expect(pop.gatewayOf[p.sender]).toBe(1);
      expect(pop.conversations[p.conversation]!.members).toContain(p.sender);
      expect(p.dueMs).toBe(0);
    }
  });
});

describe("workCost", () => {
  it("subtracts the idle rate over the window, per unit, and sums DynamoDB writes by call and table", () => {
    const reading = {
      calls: { "gw-1": { "DynamoDB.PutItem": 10, "AmazonSQS.ReceiveMessage": 4 } },
      billing: {
        "gw-1": {
          "write|PutItem|conn|*": 10,
          "write|BatchWriteItem|conn|-": 6,
          "read|Query|eventual|1": 3,
        },
      },
    };
    const idle = {
      seconds: 10,
      counters: { calls: { "gw-1": { "AmazonSQS.ReceiveMessage": 10 } }, billing: {} },
      cores: { "gw-1": 0.1 },
    };
    const c = workCost(reading, idle, 2, 5, { "gw-1": 1.2, harness: 0.5 });
    expect(c.calls).toEqual({ "gw-1": { "DynamoDB.PutItem": 2, "AmazonSQS.ReceiveMessage": 0.4 } });
    expect(c.callsTotal).toBeCloseTo(2.4);
    expect(c.dynamoWrites).toEqual({ "PutItem conn": 2, "BatchWriteItem conn": 1.2 });
    expect(c.dynamoWritesTotal).toBeCloseTo(3.2);
    expect(c.cpuMs["gw-1"]).toBeCloseTo(200); // (1.2 s − 0.1 cores × 2 s) / 5
    expect(c.cpuMs.harness).toBeCloseTo(100);
  });
});
