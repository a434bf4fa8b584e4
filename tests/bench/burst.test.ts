/** The burst's plan and arithmetic, and how the burst, the storm and their targets are rendered. */
import { burstSection, burstAndStormTargets, callsTable, stormSection, type BenchReport } from "../../bench/report";
import { sumAwsCalls, sumPeerHttp } from "../../bench/metrics";
import { burstSystemReport, planBurst } from "../../bench/burst";
import type { BurstReport, StormReport, WorkCost } from "../../bench/phase-reports";
import { bodyFor, PhaseRecorder } from "../../bench/load";
import type { SystemUnderTest } from "../../bench/system";
import { buildPopulation } from "../../bench/workload";

const latency = { count: 3, p50: 10, p90: 20, p99: 900, p999: 950, max: 1000, mean: 15 };

describe("planBurst and burstSystemReport", () => {
  const pop = buildPopulation(4, 2, "t"); // pairs 0+1 and 2+3

  it("plans one message per client, all due at the burst instant", () => {
    expect(planBurst(pop)).toEqual([
      { conversation: 0, sender: 0, senderSeq: 1, dueMs: 0 },
      { conversation: 0, sender: 1, senderSeq: 1, dueMs: 0 },
      { conversation: 1, sender: 2, senderSeq: 1, dueMs: 0 },
      { conversation: 1, sender: 3, senderSeq: 1, dueMs: 0 },
    ]);
  });

  it("reports the time to the last delivery only once every expected delivery arrived, and calls per message", () => {
    const recorder = new PhaseRecorder("bp", pop, planBurst(pop));
    recorder.startedAt = performance.timeOrigin + performance.now();
    recorder.sent = 4;
    const sut = { name: "parley", processes: () => [{ name: "gw-1", pid: 1 }] } as unknown as SystemUnderTest;
    const run = {
      recorder,
      result: recorder.result(),
      cpu: { "gw-1": 0.5, harness: 0.1 },
      calls: { "gw-1": { "AmazonSQS.SendMessage": 4, "DynamoDB.Query": 2 } },
      billing: {},
    };
    for (const [receiver, m] of [
      [1, 0],
      [0, 1],
      [3, 2],
    ] as const) {
      recorder.onMessage(receiver, "x", bodyFor("bp", m, recorder.startedAt, 40));
    }
    const partial = burstSystemReport(sut, run);
    expect([partial.expected, partial.delivered, partial.lost, partial.allDeliveredMs]).toEqual([4, 3, 1, null]);
    recorder.onMessage(2, "x", bodyFor("bp", 3, recorder.startedAt, 40));
    const full = burstSystemReport(sut, run);
    expect(full.lost).toBe(0);
    expect(full.allDeliveredMs).toBeCloseTo(recorder.lastDeliveryAt - recorder.startedAt);
    expect(full.allDeliveredMs).toBeGreaterThanOrEqual(0);
    expect(full.callsPerMessage).toEqual({ "gw-1": { "AmazonSQS.SendMessage": 1, "DynamoDB.Query": 0.5 } });
    expect(full.cpuPer1kDeliveries["gw-1"]).toBeCloseTo(125);
  });
});

const cost = (calls: number, writes: number): WorkCost => ({
  calls: { "gw-2": { "DynamoDB.PutItem": writes, "DynamoDB.Query": calls - writes } },
  callsTotal: calls,
  peerHttpTotal: 0,
  dynamoWrites: { "PutItem parley-local-connections": writes },
  dynamoWritesTotal: writes,
  cpuMs: { "gw-2": 12.5 },
});

const storm: StormReport = {
  killed: "gw-1",
  survivors: ["gw-2"],
  affected: 500,
  reconnected: 500,
  reconnectRetries: 0,
  failedReconnects: 0,
  reconnectedMs: 3100,
  settledMs: 4200,
  perClient: { ready: latency, caughtUp: latency },
  notCaughtUp: 0,
  behindTable: 0,
  outage: {
    sent: 233,
    accepted: 233,
    expected: 1000,
    delivered: 1000,
    duplicates: 0,
    orderViolations: 0,
    syncRepeats: 3,
    errors: {},
    latency,
  },
  windowS: 12,
  cpuSeconds: {},
  perReconnectedClient: cost(9, 2),
  totals: { calls: {}, dynamoWrites: {} },
  connect: { ...cost(4, 1), connects: 100, seconds: 0.4, windowS: 8.4 },
};

const burst: BurstReport = {
  messages: 1000,
  systems: [
    {
      system: "parley",
      sent: 1000,
      accepted: 1000,
      expected: 32800,
      delivered: 32800,
      lost: 0,
      late: 0,
      duplicates: 0,
      orderViolations: 0,
      errors: {},
      allDeliveredMs: 1000,
      latency,
      cpuSeconds: {},
      cpuPer1kDeliveries: { "gw-1": 1, harness: 0.1 },
      callsPerMessage: { "gw-1": { "AmazonSQS.SendMessage": 1 } },
    },
    {
      system: "relay",
      sent: 1000,
      accepted: 0,
      expected: 32800,
      delivered: 32799,
      lost: 1,
      late: 0,
      duplicates: 0,
      orderViolations: 0,
      errors: {},
      allDeliveredMs: null,
      latency,
      cpuSeconds: {},
      cpuPer1kDeliveries: { server: 0.1, harness: 0.1 },
      callsPerMessage: {},
    },
  ],
};

const report = (clients: number, over: Partial<BenchReport> = {}) =>
  ({
    population: { clients, gateways: 2, conversations: {} },
    systems: [{ system: "parley", connect: { seconds: 2.5, retries: 1 } }],
    burst,
    storm,
    ...over,
  }) as unknown as BenchReport;

describe("burst and storm sections", () => {
  it("renders a burst row per system, – for a time not reached or calls not counted", () => {
    const md = burstSection(burst).join("\n");
    expect(md).toContain("## Burst: 1000 messages sent at the same instant");
    expect(md).toMatch(
      /\| parley \| 32800 \/ 32800 \| 0 \| 0 \| 0 \| 0 \| 1000 \| 10 \/ 20 \/ 900 \/ 1000 \| gw-1 1\.000 \| 1\.00 \|/,
    );
    expect(md).toMatch(/\| relay \| 32799 \/ 32800 \| 1 \| 0 \| 0 \| 0 \| – \| .* \| server 0\.100 \| – \|/);
    expect(md).toContain("| AmazonSQS.SendMessage | 1.00 | 1.00 |");
  });

  it("renders the storm's times, what the outage messages did and both costs", () => {
    const md = stormSection(storm).join("\n");
    expect(md).toContain("gw-1 killed with SIGKILL, its 500 clients reconnect to gw-2");
    expect(md).toContain("| kill → every affected client caught up (settled) | 4200 |");
    expect(md).toContain(
      "seqs repeated by sync and dropped 3, kill → delivery p50 / p90 / p99 / max 10 / 20 / 900 / 1000 ms",
    );
    expect(md).toContain(
      "9.0 AWS calls (+ 0.0 peer HTTP), DynamoDB writes 2.00 (PutItem parley-local-connections 2.00); CPU ms gw-2 12.50",
    );
    expect(md).toContain("**Cost per connect** (100 clients");
    expect(md).toContain("| **all** | 4.00 | 4.00 |");
  });

  it("judges the issue 15 targets only at 1,000 clients", () => {
    const full = burstAndStormTargets(report(1000));
    expect(full.map((t) => t.met)).toEqual(["yes", "no", "yes"]);
    expect(full[0]!.measured).toBe("1000 sends: 32800 / 32800 delivered, p99 900 ms, all in 1000 ms");
    expect(full[2]!.measured).toContain("settled in 4200 ms");
    const late = burstAndStormTargets(report(1000, { storm: { ...storm, settledMs: null } }));
    expect(late[2]!.met).toBe("no");
    expect(burstAndStormTargets(report(100)).map((t) => t.met)).toEqual(Array(3).fill("– (100 clients)"));
    expect(burstAndStormTargets(report(1000, { burst: undefined, storm: undefined }))).toHaveLength(1);
  });
});

test("peer HTTP is counted beside the AWS calls, not among them", () => {
  const calls = { "gw-1": { "DynamoDB.Query": 1, http: 0.5 }, persister: { "DynamoDB.PutItem": 2 } };
  const table = callsTable(calls);
  expect(table).toContain("| http | 0.50 | 0.00 | 0.50 |");
  expect(table).toContain("| **AWS calls** | 1.00 | 2.00 | 3.00 |");
  expect(table).toContain("| **all** | 1.50 | 2.00 | 3.50 |");
  expect(sumAwsCalls(calls)).toBe(3);
  expect(sumPeerHttp(calls)).toBe(0.5);
  expect(callsTable({ persister: { "DynamoDB.PutItem": 2 } }).some((l) => l.includes("AWS calls"))).toBe(false);
});
