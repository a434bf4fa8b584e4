/**
 * `npm run bench -- --quick` end to end: the real local stack, both baselines and the report writer. No timing
 * assertions (the machine is shared); it checks that the run completes, writes its three files, and that what
 * it measured is self-consistent — every system got the same plan, nobody saw messages out of order.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { BenchReport } from "../../bench/report";

const root = path.resolve(__dirname, "../..");
const MIX = "messages=80,reactions=10,edits=5,receipts=5";

describe("npm run bench -- --quick", () => {
  let out: string;
  let report: BenchReport;
  let exitCode: number | null;
  let stderr = "";

  beforeAll(async () => {
    out = mkdtempSync(path.join(os.tmpdir(), "parley-bench-"));
    // As the README says it, with --out (a documented option) so the run writes to a folder of the test's own, and
    // the mixed workload (docs/benchmark.md), so the storm after it also meets conversations with events in them.
    const child = spawn("bash", ["-c", `npm run bench -- --quick --mix ${MIX} --out ${out}`], {
      cwd: root,
      stdio: ["ignore", "ignore", "pipe"],
    });
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    [exitCode] = (await once(child, "exit")) as [number | null];
    if (existsSync(path.join(out, "latest.json"))) {
      report = JSON.parse(readFileSync(path.join(out, "latest.json"), "utf8")) as BenchReport;
    }
  }, 300_000);

  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it("exits 0, printing progress lines", () => {
    expect({ exitCode, tail: exitCode === 0 ? "" : stderr.slice(-3000) }).toEqual({ exitCode: 0, tail: "" });
    expect(stderr).toMatch(/\[bench \+[\d.]+s\] parley p0 @\d+\/s/);
    expect(stderr).toMatch(/done in \d+ s; wrote/);
  });

  it("writes the JSON, the markdown table and the SVG chart", () => {
    const md = readFileSync(path.join(out, "latest.md"), "utf8");
    expect(md).toContain("## Side by side");
    expect(md).toMatch(/\| parley \| 100 \|/);
    expect(md).toMatch(/\| relay \| 100 \|/);
    expect(md).toMatch(/\| socketio \| 100 \|/);
    expect(md).toContain("## Rate sweep (Parley)");
    expect(md).toContain("## Targets (issue 7)");
    expect(readFileSync(path.join(out, "latest.svg"), "utf8")).toMatch(/^<svg[\s\S]*<polyline[\s\S]*<\/svg>$/);
  });

  it("drove the same plan against every system and recorded it consistently", () => {
    expect(report.systems.map((s) => s.system)).toEqual(["parley", "relay", "socketio"]);
    const expected = report.systems[0]!.expected;
    expect(expected).toBeGreaterThan(0);
    for (const s of report.systems) {
      expect(s.expected).toBe(expected);
      expect(s.sent).toBe(report.systems[0]!.sent);
      expect(s.delivered + s.lost).toBe(s.expected);
      expect(s.delivered).toBeGreaterThan(0);
      // Per-sender order (and, for Parley, per-conversation seq order) must hold whatever the load.
      expect(s.orderViolations).toBe(0);
      expect(s.latency.count).toBe(s.delivered);
      expect(s.memory.connections).toBe(report.population.clients - Math.floor(report.population.clients / 2));
      expect(Object.keys(s.idleCores).length).toBeGreaterThan(0);
    }
    const parley = report.systems[0]!;
    expect(parley.stages?.acceptedToStored.count).toBeGreaterThan(0);
    expect(Object.keys(parley.cpuPer1kDeliveries)).toEqual(
      expect.arrayContaining(["gw-1", "gw-2", "persister", "fauxqs", "dynalite", "total"]),
    );
    expect(report.sweep.steps.length).toBeGreaterThan(0);
    expect(report.sync?.received).toBe(report.sync?.missed);
    expect(Object.keys(report.ratios)).toEqual(["parley/relay", "parley/socketio"]);
  });

  it("prices Parley per million messages and per connection-month, by call", () => {
    for (const cost of [report.costPerMillionMessagesUsd, report.costPerConnectionMonthUsd]) {
      expect(Number.isFinite(cost?.totalUsd)).toBe(true);
      expect(cost!.totalUsd).toBeGreaterThan(0);
      expect(Object.keys(cost!.byCall).length).toBeGreaterThan(0);
      expect(cost!.assumptions.length).toBeGreaterThan(0);
    }
    const md = readFileSync(path.join(out, "latest.md"), "utf8");
    expect(md).toContain("## Parley cost per million messages");
    expect(md).toContain("## Parley cost per connection-month");
  });

  it("bursts one message per client at every system, with the same expectations and nothing reordered", () => {
    expect(report.burst?.messages).toBe(report.population.clients);
    expect(report.burst!.systems.map((s) => s.system)).toEqual(["parley", "relay", "socketio"]);
    for (const s of report.burst!.systems) {
      expect(s.sent).toBe(report.population.clients);
      expect(s.expected).toBe(report.burst!.systems[0]!.expected);
      expect(s.delivered + s.lost).toBe(s.expected);
      expect([s.duplicates, s.orderViolations]).toEqual([0, 0]);
      if (s.lost === 0) expect(s.allDeliveredMs).toBeGreaterThan(0);
    }
    const parley = report.burst!.systems[0]!;
    // The gateway's sends reach the inbound queue, alone or batched per event-loop turn (runtime/gateway/inbound.ts).
    const gw1 = parley.callsPerMessage["gw-1"] ?? {};
    expect((gw1["AmazonSQS.SendMessage"] ?? 0) + (gw1["AmazonSQS.SendMessageBatch"] ?? 0)).toBeGreaterThan(0);
    expect(readFileSync(path.join(out, "latest.md"), "utf8")).toContain(
      "## Burst: 100 messages sent at the same instant",
    );
  });

  it("kills a gateway and sees every one of its clients reconnect and catch up, with what it cost", () => {
    const s = report.storm!;
    expect(s.killed).toBe("gw-1");
    expect(s.affected).toBe(report.population.clients / 2);
    expect({ reconnected: s.reconnected, notCaughtUp: s.notCaughtUp, behindTable: s.behindTable }).toEqual({
      reconnected: s.affected,
      notCaughtUp: 0,
      behindTable: 0,
    });
    expect(s.settledMs).toBeGreaterThan(0);
    expect(s.settledMs!).toBeGreaterThanOrEqual(s.reconnectedMs!);
    expect(s.outage.delivered).toBe(s.outage.expected);
    expect([s.outage.duplicates, s.outage.orderViolations]).toEqual([0, 0]);
    // Each reconnect writes at least its connection record; each connect of the sample too.
    expect(s.perReconnectedClient.dynamoWritesTotal).toBeGreaterThanOrEqual(1);
    expect(s.connect.calls["gw-1"]?.["DynamoDB.PutItem"]).toBeGreaterThan(0);
    expect(s.connect.calls["gw-2"]?.["DynamoDB.PutItem"]).toBeGreaterThan(0);
    const md = readFileSync(path.join(out, "latest.md"), "utf8");
    expect(md).toContain("## Reconnect storm (Parley): gw-1 killed with SIGKILL");
    expect(md).toContain("## Targets (issue 15: burst, connect, reconnect storm)");
  });

  it("runs the mixed workload: each kind in its own phase and in the mix, with calls and cost per entry", () => {
    const m = report.mix!;
    expect(m.shares).toEqual({ messages: 80, reactions: 10, edits: 5, receipts: 5 });
    expect(m.kinds.map((k) => k.kind)).toEqual(["messages", "reactions", "edits", "receipts"]);
    for (const k of m.kinds) {
      const own = k.isolated;
      expect({ kind: k.kind, planned: own.planned }).toEqual({ kind: k.kind, planned: own.sent + own.skipped });
      // The earlier phases left messages to react on and edit for most entries; a phase of reads alone reads
      // what was unread when it started (about one entry per client here), and skips the rest.
      expect(own.sent).toBeGreaterThan(k.kind === "receipts" ? 0 : own.planned / 2);
      const errors = Object.values(own.errors).reduce((a, b) => a + b, 0);
      if (k.kind === "receipts") expect(own.accepted).toBeGreaterThan(own.sent / 2);
      else expect({ kind: k.kind, answered: own.accepted + errors }).toEqual({ kind: k.kind, answered: own.sent });
      expect(own.delivered).toBeGreaterThan(0);
      expect(own.delivered).toBeLessThanOrEqual(own.expected);
      expect(own.duplicates).toBe(0);
      expect(own.cost.callsPerEntryTotal).toBeGreaterThan(0);
      expect(own.cost.costPerMillionUsd.totalUsd).toBeGreaterThan(0);
      expect(k.mixed.planned).toBe(k.mixed.sent + k.mixed.skipped);
    }
    expect(m.kinds.reduce((n, k) => n + k.mixed.planned, 0)).toBe(Math.round(m.rate * m.durationS));
    expect(m.mixed.orderViolations).toBe(0);
    expect(m.mixed.cost.entries).toBe(m.kinds.reduce((n, k) => n + k.mixed.sent, 0));
    expect(m.mixed.predictedNetCallsPerEntry).toBeGreaterThan(0);
    expect(readFileSync(path.join(out, "latest.md"), "utf8")).toContain(`## Mixed workload (Parley): ${MIX} at`);
  });
});
