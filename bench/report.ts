/**
 * Results: one JSON file (everything, git-ignored), a markdown table (committed as bench/results/latest.md) and
 * an SVG latency-percentile chart (git-ignored).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { BurstReport, MixReport, StormReport, WorkCost } from "./phase-reports";
import type { DeliveryCounts, LatencySummary } from "./latency";
import { PEER_HTTP, sumAwsCalls as sumCalls, sumPeerless } from "./metrics";
import type { CostBreakdown } from "./pricing";
import { CONNECT_CONCURRENCY } from "./load";

export interface SystemReport extends DeliveryCounts {
  readonly phases: number;
  readonly rate: number;
  readonly deliveriesPerSecond: number;
  readonly latency: LatencySummary;
  readonly curve: { p: number; ms: number }[];
  readonly stages?: { accept: LatencySummary; acceptedToStored: LatencySummary; storedToDelivered: LatencySummary };
  /** CPU seconds per process over the phases (send window + drain). */
  readonly cpuSeconds: Record<string, number>;
  readonly cpuPer1kDeliveries: Record<string, number>;
  /** Time to open and authenticate every client (Parley: until `ready`), and failed attempts retried. */
  readonly connect: { seconds: number; retries: number };
  /** With --heap: what one gateway's JS heap gained per connection, by constructor. */
  readonly heapGrowth?: {
    process: string;
    connections: number;
    top: { what: string; countPerConnection: number; bytesPerConnection: number }[];
  };
  /** Outgoing calls per sent message over the main phases, by process and operation (preload counters). */
  readonly callsPerMessage: Record<string, Record<string, number>>;
  /** CPU cores used per process with all clients connected and idle. */
  readonly idleCores: Record<string, number>;
  readonly memory: {
    connections: number;
    rssBeforeBytes: number;
    rssAfterBytes: number;
    perConnectionBytes: number;
    /** JS heap (used, after GC) and external/Buffer memory growth per connection, from process.memoryUsage(). */
    heapPerConnectionBytes: number;
    externalPerConnectionBytes: number;
  };
}

export interface SweepStep {
  readonly rate: number;
  readonly expected: number;
  /** Within the drain window. */
  readonly delivered: number;
  readonly lost: number;
  /** Over everything delivered, late ones included (summarized when the run ends). */
  readonly latency: LatencySummary;
  /** p99 as of the end of the drain window: the pass criterion. */
  readonly p99InWindowMs: number;
  readonly pass: boolean;
  readonly cpuPer1kDeliveries: Record<string, number>;
}

export interface SyncReport {
  readonly missed: number;
  readonly received: number;
  /** `sync` frame sent → `synced` received. */
  readonly syncMs: number;
  /** WebSocket opening → `synced` (handshake, auth, ready, sync). */
  readonly connectToSyncedMs: number;
}

export interface ProfileEntry {
  readonly fn: string;
  readonly where: string;
  readonly selfMs: number;
  readonly selfPct: number;
}

export interface BenchReport {
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly command: string;
  /** git HEAD of the code under test, flagged when runtime/ had uncommitted changes. */
  readonly code: string;
  readonly machine: { cpus: number; node: string; loadAvgAtStart: number[] };
  readonly options: Record<string, unknown>;
  readonly population: { clients: number; gateways: number; conversations: Record<string, number> };
  readonly setup: Record<string, number>;
  readonly systems: SystemReport[];
  readonly ratios: Record<string, Record<string, number | null>>;
  readonly sweep: { steps: SweepStep[]; kneeRate: number | null; criterion: string };
  /** Parley at AWS list price (bench/cost.ts): per million sent messages, and per idle connection-month. */
  readonly costPerMillionMessagesUsd?: CostBreakdown;
  readonly costPerConnectionMonthUsd?: CostBreakdown;
  readonly sync?: SyncReport;
  /** Every client sends one message at the same instant, per system (bench/burst.ts). */
  readonly burst?: BurstReport;
  /** Parley: one gateway of two killed, its clients reconnect and sync (bench/storm.ts); with the connect cost. */
  readonly storm?: StormReport;
  /** Parley with `--mix`: messages, reactions, edits and receipts, each kind's cost per entry (bench/mix.ts). */
  readonly mix?: MixReport;
  readonly profile?: { process: string; totalMs: number; top: ProfileEntry[]; byArea: Record<string, number> }[];
  readonly durationS: number;
}

const ratio = (a: number, b: number): number | null => (b > 0 ? Math.round((a / b) * 100) / 100 : null);

/** Parley over each baseline: latency percentiles, CPU per delivery (gateways, and everything), memory. */
export function computeRatios(systems: readonly SystemReport[]): BenchReport["ratios"] {
  const parley = systems.find((s) => s.system === "parley");
  const out: BenchReport["ratios"] = {};
  if (!parley) return out;
  const gatewayCpu = (s: SystemReport) =>
    Object.entries(s.cpuPer1kDeliveries)
      .filter(([k]) => k.startsWith("gw-"))
      .reduce((n, [, v]) => n + v, 0);
  for (const base of systems.filter((s) => s.system !== "parley")) {
    const baseCpu = base.cpuPer1kDeliveries.server ?? 0;
    out[`parley/${base.system}`] = {
      p50: ratio(parley.latency.p50, base.latency.p50),
      p90: ratio(parley.latency.p90, base.latency.p90),
      p99: ratio(parley.latency.p99, base.latency.p99),
      p999: ratio(parley.latency.p999, base.latency.p999),
      max: ratio(parley.latency.max, base.latency.max),
      gatewayCpuPerDelivery: ratio(gatewayCpu(parley), baseCpu),
      totalCpuPerDelivery: ratio(parley.cpuPer1kDeliveries.total ?? 0, baseCpu),
      memoryPerConnection: ratio(parley.memory.perConnectionBytes, base.memory.perConnectionBytes),
    };
  }
  return out;
}

const f = (n: number | null | undefined, digits = 1) =>
  n === null || n === undefined || Number.isNaN(n) ? "–" : n.toFixed(digits);
const kb = (bytes: number) => (bytes / 1024).toFixed(1);

export function toMarkdown(r: BenchReport): string {
  const lines: string[] = [];
  lines.push(`# Benchmark results — ${r.finishedAt}`);
  lines.push("");
  lines.push(
    `Command: \`${r.command}\` · code ${r.code} · ${r.population.clients} clients on ${r.population.gateways} gateways · ` +
      `conversations ${Object.entries(r.population.conversations)
        .map(([size, n]) => `${n}×${size}`)
        .join(", ")} · ${r.machine.cpus} cores, Node ${r.machine.node} · load average at start ` +
      `${r.machine.loadAvgAtStart.map((x) => x.toFixed(2)).join(" ")} · run took ${r.durationS.toFixed(0)} s`,
  );
  lines.push("");
  lines.push("## Side by side (same clients, same payloads, interleaved phases)");
  lines.push("");
  lines.push(
    "| system | rate msg/s | delivered / expected | lost | late | dup | order viol. | deliveries/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | CPU s / 1k deliveries | memory / idle conn (RSS, JS heap) | connect all s (retries) |",
  );
  lines.push("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
  for (const s of r.systems) {
    const cpu = Object.entries(s.cpuPer1kDeliveries)
      .filter(([k]) => k !== "harness")
      .map(([k, v]) => `${k} ${f(v, 3)}`)
      .join("; ");
    lines.push(
      `| ${s.system} | ${s.rate} | ${s.delivered} / ${s.expected} | ${s.lost} | ${s.late} | ${s.duplicates} | ${s.orderViolations} | ` +
        `${f(s.deliveriesPerSecond, 0)} | ${f(s.latency.p50, 2)} | ${f(s.latency.p90, 2)} | ${f(s.latency.p99, 2)} | ` +
        `${f(s.latency.p999, 2)} | ${f(s.latency.max, 1)} | ${cpu} | ${kb(s.memory.perConnectionBytes)} KB (heap ${kb(s.memory.heapPerConnectionBytes)}) | ${f(s.connect.seconds, 1)} (${s.connect.retries}) |`,
    );
  }
  lines.push("");
  lines.push(
    "Deliveries are to every member but the sender (Parley also echoes each message to its sender and sends " +
      "`accepted`; those are not counted). Latency is from the intended send time of an open-loop schedule. " +
      "*lost* = not delivered by the end of the run (for Parley that includes accepted messages still queued when " +
      "the run stopped — durable, but not delivered in time); *late* = delivered after the drain window " +
      `(${r.options.drainMs} ms after the last send). CPU is user+system seconds from /proc over each phase until ` +
      "deliveries stopped, divided by thousands of deliveries; *total* sums every Parley process. Memory is the " +
      "RSS growth of the server processes (Parley: both gateways) per connected idle client after a settle " +
      `period of ${r.options.settleMs} ms and a forced full GC (bench/preload.mjs), measured on the second half ` +
      "of the clients (the first half absorbs warm-up).",
  );
  lines.push("");
  lines.push(
    "Idle CPU with every client connected (cores): " +
      r.systems
        .map(
          (s) =>
            `${s.system} ` +
            Object.entries(s.idleCores)
              .map(([k, v]) => `${k} ${f(v, 3)}`)
              .join(", "),
        )
        .join("; ") +
      ".",
  );
  const parley = r.systems.find((s) => s.system === "parley");
  if (parley?.stages) {
    lines.push("");
    lines.push("## Parley per stage (ms)");
    lines.push("");
    lines.push("| stage | p50 | p90 | p99 | p99.9 | max |");
    lines.push("|---|---|---|---|---|---|");
    const row = (name: string, l: LatencySummary) =>
      lines.push(`| ${name} | ${f(l.p50, 2)} | ${f(l.p90, 2)} | ${f(l.p99, 2)} | ${f(l.p999, 2)} | ${f(l.max, 1)} |`);
    row("intended send → accepted", parley.stages.accept);
    row("accepted (sentAt) → stored (storedAt)", parley.stages.acceptedToStored);
    row("stored → delivered", parley.stages.storedToDelivered);
    row("end to end", parley.latency);
  }
  if (parley && Object.keys(parley.callsPerMessage).length) {
    lines.push("");
    lines.push("## Parley: outgoing calls per message (main phases)");
    lines.push("");
    lines.push(...callsTable(parley.callsPerMessage));
  }
  for (const [title, cost] of [
    ["per million messages", r.costPerMillionMessagesUsd],
    ["per connection-month (idle)", r.costPerConnectionMonthUsd],
  ] as const) {
    if (!cost) continue;
    lines.push("");
    lines.push(`## Parley cost ${title} at AWS list price: $${f(cost.totalUsd, 4)}`);
    lines.push("");
    lines.push("| call | USD | share |");
    lines.push("|---|---|---|");
    for (const [call, v] of Object.entries(cost.byCall)) {
      lines.push(`| ${call} | ${f(v, 5)} | ${f(cost.totalUsd > 0 ? (100 * v) / cost.totalUsd : 0, 1)}% |`);
    }
    lines.push("");
    lines.push(`Assumptions: ${cost.assumptions.join("; ")}.`);
  }
  lines.push("");
  lines.push("## Ratios (Parley / baseline)");
  lines.push("");
  lines.push(
    "| baseline | p50 | p90 | p99 | p99.9 | gateway CPU / delivery | all-process CPU / delivery | memory / conn |",
  );
  lines.push("|---|---|---|---|---|---|---|---|");
  for (const [name, q] of Object.entries(r.ratios)) {
    lines.push(
      `| ${name} | ${f(q.p50, 2)} | ${f(q.p90, 2)} | ${f(q.p99, 2)} | ${f(q.p999, 2)} | ${f(q.gatewayCpuPerDelivery, 2)} | ` +
        `${f(q.totalCpuPerDelivery, 2)} | ${f(q.memoryPerConnection, 2)} |`,
    );
  }
  lines.push("");
  lines.push(
    `## Rate sweep (Parley) — knee: ${r.sweep.kneeRate === null ? "none passed" : `${r.sweep.kneeRate} msg/s`}`,
  );
  lines.push("");
  lines.push(`Criterion: ${r.sweep.criterion}.`);
  lines.push("");
  lines.push(
    "| rate msg/s | delivered in window / expected | not in window | p99 in window ms | p50 ms | p99 ms | max ms | gateways CPU s / 1k | pass |",
  );
  lines.push("|---|---|---|---|---|---|---|---|---|");
  for (const s of r.sweep.steps) {
    const gw = Object.entries(s.cpuPer1kDeliveries)
      .filter(([k]) => k.startsWith("gw-"))
      .reduce((n, [, v]) => n + v, 0);
    lines.push(
      `| ${s.rate} | ${s.delivered} / ${s.expected} | ${s.lost} | ${f(s.p99InWindowMs, 2)} | ${f(s.latency.p50, 2)} | ${f(s.latency.p99, 2)} | ` +
        `${f(s.latency.max, 1)} | ${f(gw, 3)} | ${s.pass ? "yes" : "no"} |`,
    );
  }
  lines.push("");
  lines.push("## Targets (issue 7)");
  lines.push("");
  lines.push("| target | measured | met |");
  lines.push("|---|---|---|");
  for (const t of targets(r)) lines.push(`| ${t.target} | ${t.measured} | ${t.met} |`);
  lines.push("");
  lines.push("## Targets (issue 15: burst, connect, reconnect storm)");
  lines.push("");
  lines.push("| target | measured | met |");
  lines.push("|---|---|---|");
  for (const t of burstAndStormTargets(r)) lines.push(`| ${t.target} | ${t.measured} | ${t.met} |`);
  if (r.burst) lines.push("", ...burstSection(r.burst));
  if (r.mix) lines.push("", ...mixSection(r.mix));
  if (r.storm) lines.push("", ...stormSection(r.storm));
  if (r.sync) {
    lines.push("");
    lines.push(
      `## Reconnect and sync\n\n${r.sync.received} of ${r.sync.missed} missed messages synced: ` +
        `sync → synced ${f(r.sync.syncMs, 1)} ms; socket open → synced ${f(r.sync.connectToSyncedMs, 1)} ms.`,
    );
  }
  for (const s of r.systems.filter((x) => x.heapGrowth)) {
    const h = s.heapGrowth!;
    lines.push("");
    lines.push(`## JS heap growth per connection (${s.system}, ${h.process}, ${h.connections} connections, after GC)`);
    lines.push("");
    lines.push("| what | objects / conn | bytes / conn |");
    lines.push("|---|---|---|");
    for (const e of h.top)
      lines.push(`| \`${e.what}\` | ${f(e.countPerConnection, 2)} | ${f(e.bytesPerConnection, 0)} |`);
  }
  if (r.profile?.length) {
    lines.push("");
    lines.push("## CPU profile (self time over the main phases; idle excluded)");
    for (const p of r.profile) {
      lines.push("");
      lines.push(`### ${p.process} — ${f(p.totalMs / 1000, 1)} s sampled`);
      lines.push("");
      lines.push(
        "By area: " +
          Object.entries(p.byArea)
            .sort((a, b) => b[1] - a[1])
            .map(([k, v]) => `${k} ${f(v, 1)}%`)
            .join(", "),
      );
      lines.push("");
      lines.push("| self % | self ms | function | where |");
      lines.push("|---|---|---|---|");
      for (const e of p.top) lines.push(`| ${f(e.selfPct, 1)} | ${f(e.selfMs, 0)} | \`${e.fn}\` | ${e.where} |`);
    }
  }
  lines.push("");
  lines.push(
    "Setup (ms): " +
      Object.entries(r.setup)
        .map(([k, v]) => `${k} ${f(v, 1)}`)
        .join(", "),
  );
  lines.push("");
  return lines.join("\n");
}

/** The issue's targets, judged from this run alone ("not reached" when the sweep stopped below the rate). */
export function targets(r: BenchReport): { target: string; measured: string; met: string }[] {
  const yes = (b: boolean) => (b ? "yes" : "no");
  const step = (rate: number) => r.sweep.steps.find((s) => s.rate === rate);
  const lastRate = r.sweep.steps.length ? r.sweep.steps[r.sweep.steps.length - 1]!.rate : 0;
  const out: { target: string; measured: string; met: string }[] = [];
  const s500 = step(500);
  out.push({
    target: "cross-gateway e2e p50 ≤ 10 ms, p99 ≤ 50 ms at 500 msg/s, 1,000 clients, 0 lost",
    measured: s500
      ? `p50 ${f(s500.latency.p50, 1)} ms, p99 ${f(s500.p99InWindowMs, 1)} ms, ${s500.lost} not delivered in window`
      : `not reached: the sweep stopped at ${lastRate} msg/s`,
    met: s500 ? yes(s500.latency.p50 <= 10 && s500.p99InWindowMs <= 50 && s500.lost === 0) : "no",
  });
  const s2000 = step(2000);
  out.push({
    target: "≥ 2,000 msg/s sustained with p99 < 100 ms",
    measured: `knee ${r.sweep.kneeRate === null ? "none (no rate passed)" : `${r.sweep.kneeRate} msg/s`}`,
    met: s2000 ? yes(s2000.pass) : "no",
  });
  const parley = r.systems.find((s) => s.system === "parley");
  const relayRatio = r.ratios["parley/relay"]?.gatewayCpuPerDelivery;
  out.push({
    target: "gateway CPU per delivery ≤ 1.5 × the plain relay's",
    measured: relayRatio === undefined || relayRatio === null ? "–" : `${f(relayRatio, 1)} ×`,
    met: relayRatio === undefined || relayRatio === null ? "–" : yes(relayRatio <= 1.5),
  });
  if (parley) {
    const perConn = Math.max(parley.memory.perConnectionBytes, parley.memory.heapPerConnectionBytes);
    out.push({
      target: "≤ 8 KB per idle authenticated connection",
      measured: `RSS ${kb(parley.memory.perConnectionBytes)} KB, JS heap ${kb(parley.memory.heapPerConnectionBytes)} KB`,
      met: yes(perConn <= 8 * 1024),
    });
  }
  if (r.sync) {
    out.push({
      target: "reconnect syncing 1,000 missed messages in ≤ 200 ms",
      measured: `${r.sync.received}/${r.sync.missed} in ${f(r.sync.syncMs, 1)} ms (open → synced ${f(r.sync.connectToSyncedMs, 1)} ms)`,
      met: yes(r.sync.missed >= 1000 && r.sync.received === r.sync.missed && r.sync.syncMs <= 200),
    });
  }
  return out;
}

/** A calls table: one row per operation, one column per process, and the sums (calls per message, per connect …). */
export function callsTable(calls: Readonly<Record<string, Readonly<Record<string, number>>>>): string[] {
  const procs = Object.keys(calls);
  const ops = [...new Set(procs.flatMap((p) => Object.keys(calls[p]!)))].sort();
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const lines = [`| call | ${procs.join(" | ")} | all |`, `|---|${procs.map(() => "---|").join("")}---|`];
  for (const op of ops) {
    const vals = procs.map((p) => calls[p]![op] ?? 0);
    lines.push(`| ${op} | ${vals.map((v) => f(v, 2)).join(" | ")} | ${f(sum(vals), 2)} |`);
  }
  if (ops.includes(PEER_HTTP)) {
    const aws = procs.map((p) => sumPeerless(calls[p]!));
    lines.push(`| **AWS calls** | ${aws.map((v) => f(v, 2)).join(" | ")} | ${f(sum(aws), 2)} |`);
  }
  const totals = procs.map((p) => sum(Object.values(calls[p]!)));
  lines.push(`| **all** | ${totals.map((v) => f(v, 2)).join(" | ")} | ${f(sum(totals), 2)} |`);
  return lines;
}

const percentiles = (l: LatencySummary) => `${f(l.p50, 0)} / ${f(l.p90, 0)} / ${f(l.p99, 0)} / ${f(l.max, 0)}`;

/** The burst, one row per system. */
export function burstSection(b: BurstReport): string[] {
  const lines = [
    `## Burst: ${b.messages} messages sent at the same instant, one per client`,
    "",
    "Every connected client sends one message in the same tick. Latency is per delivery, from the burst instant; " +
      "*all delivered* is the burst instant → the last expected delivery (– while any is missing).",
    "",
    "| system | delivered / expected | lost | late | dup | order viol. | all delivered ms | p50 / p90 / p99 / max ms | CPU s / 1k deliveries | calls / message |",
    "|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const s of b.systems) {
    const cpu = Object.entries(s.cpuPer1kDeliveries)
      .filter(([k]) => k !== "harness")
      .map(([k, v]) => `${k} ${f(v, 3)}`)
      .join("; ");
    const calls = sumCalls(s.callsPerMessage);
    lines.push(
      `| ${s.system} | ${s.delivered} / ${s.expected} | ${s.lost} | ${s.late} | ${s.duplicates} | ${s.orderViolations} | ` +
        `${f(s.allDeliveredMs, 0)} | ${percentiles(s.latency)} | ${cpu} | ${calls > 0 ? f(calls, 2) : "–"} |`,
    );
  }
  const parley = b.systems.find((s) => s.system === "parley");
  if (parley && sumCalls(parley.callsPerMessage) > 0) {
    lines.push("", "Parley, calls per burst message:", "", ...callsTable(parley.callsPerMessage));
  }
  return lines;
}

const usd = (n: number) => `$${f(n, 2)}`;

/** The mixed workload: per kind, what the mix did with it and what one entry of it costs (its own phase). */
export function mixSection(m: MixReport): string[] {
  const shares = Object.entries(m.shares)
    .filter(([, v]) => v > 0)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
  const c = m.mixed.cost;
  const lines = [
    `## Mixed workload (Parley): ${shares} at ${m.rate} entries/s × ${m.durationS} s`,
    "",
    "Clients send `send`, `react {seq, emoji, on}` (toggling one of 6 emoji on one of the 8 newest messages of " +
      "their conversation), `edit {seq, body}` (one of their own 8 newest messages) and `read {seq}` (one entry " +
      "on from where they read, by a member with something unread). One phase per kind — that kind alone, same rate " +
      "and duration — gives the kind's AWS calls and cost per entry; then the mix runs as one phase. *Skipped*: " +
      "no target yet. *Accepted*: `accepted` frames; for receipts, reads that moved (the reader's own receipt). " +
      "Deliveries are to the other members. *Net*: minus the rates of a " +
      `${f(m.baselineS, 1)} s quiet baseline (polls, heartbeats, reaper passes) over the phase's metered time; ` +
      "the gross figures count background as the main phases do.",
    "",
    "| kind | share % | mix: sent (skipped) | mix: delivered / expected | mix: p50 / p99 ms | own phase: sent (skipped) | accepted | errors | delivered / expected | p50 / p99 ms | AWS calls / entry | net | $ / million entries | net |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const k of m.kinds) {
    const x = k.mixed;
    const i = k.isolated;
    lines.push(
      `| ${k.kind} | ${k.sharePct} | ${x.sent} (${x.skipped}) | ${x.delivered} / ${x.expected} | ` +
        `${f(x.latency.p50, 0)} / ${f(x.latency.p99, 0)} | ${i.sent} (${i.skipped}) | ${i.accepted} | ` +
        `${Object.keys(i.errors).length ? JSON.stringify(i.errors) : "–"} | ${i.delivered} / ${i.expected} | ` +
        `${f(i.latency.p50, 0)} / ${f(i.latency.p99, 0)} | ${f(i.cost.callsPerEntryTotal, 2)} | ` +
        `${f(i.cost.netCallsPerEntryTotal, 2)} | ${usd(i.cost.costPerMillionUsd.totalUsd)} | ` +
        `${usd(i.cost.netCostPerMillionUsd.totalUsd)} |`,
    );
  }
  const sent = m.kinds.reduce((n, k) => n + k.mixed.sent, 0);
  const delivered = m.kinds.reduce((n, k) => n + k.mixed.delivered, 0);
  const expected = m.kinds.reduce((n, k) => n + k.mixed.expected, 0);
  lines.push(
    `| **mix** | 100 | ${sent} | ${delivered} / ${expected} | – | – | – | – | – | – | ${f(c.callsPerEntryTotal, 2)} | ` +
      `${f(c.netCallsPerEntryTotal, 2)} | ${usd(c.costPerMillionUsd.totalUsd)} | ${usd(c.netCostPerMillionUsd.totalUsd)} |`,
    `| mix predicted from the kinds' own phases | | | | | | | | | | | ${f(m.mixed.predictedNetCallsPerEntry, 2)} | | ` +
      `${usd(m.mixed.predictedNetCostPerMillionUsd)} |`,
    "",
    `Order violations in the mix (a conversation's seq going down at a receiver): ${m.mixed.orderViolations}.`,
    "",
    "Net calls per entry by process and operation:",
    "",
  );
  const columns: [string, Readonly<Record<string, Readonly<Record<string, number>>>>][] = [
    ...m.kinds.map(
      (k) => [k.kind, k.isolated.cost.netCallsPerEntry] as [string, Record<string, Record<string, number>>],
    ),
    ["mix", c.netCallsPerEntry],
  ];
  const rows = [
    ...new Set(
      columns.flatMap(([, calls]) =>
        Object.entries(calls).flatMap(([p, ops]) => Object.keys(ops).map((op) => `${p} ${op}`)),
      ),
    ),
  ].sort();
  lines.push(`| call | ${columns.map(([k]) => k).join(" | ")} |`, `|---|${columns.map(() => "---|").join("")}`);
  for (const row of rows) {
    const [proc, op] = [row.slice(0, row.indexOf(" ")), row.slice(row.indexOf(" ") + 1)];
    lines.push(`| ${proc} ${op} | ${columns.map(([, calls]) => f(calls[proc]?.[op] ?? 0, 2)).join(" | ")} |`);
  }
  lines.push(
    `| **all** | ${columns.map(([, calls]) => f(sumCalls(calls), 2)).join(" | ")} |`,
    "",
    `Assumptions of the prices: ${c.costPerMillionUsd.assumptions.join("; ")}.`,
  );
  return lines;
}

const writesLine = (w: WorkCost) =>
  `${f(w.dynamoWritesTotal, 2)} (${Object.entries(w.dynamoWrites)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${f(v, 2)}`)
    .join(", ")})`;
const cpuLine = (w: WorkCost) =>
  Object.entries(w.cpuMs)
    .map(([k, v]) => `${k} ${f(v, 2)}`)
    .join(", ");

/** The storm: times, what the outage messages did, and the cost per reconnected client and per connect. */
export function stormSection(s: StormReport): string[] {
  const c = s.connect;
  return [
    `## Reconnect storm (Parley): ${s.killed} killed with SIGKILL, its ${s.affected} clients reconnect to ${s.survivors.join(", ")}`,
    "",
    `Each affected client reconnects when its socket closes, with its last gap-free seq as the \`sync\` cursor, and ` +
      `dedupes by seq; ${s.outage.sent} messages (one per conversation, from members on the surviving gateway) are ` +
      `sent right after the kill. *Caught up* = connected, \`synced\`, and holding every seq up to the last stored ` +
      `one of its conversation.`,
    "",
    "| | ms |",
    "|---|---|",
    `| kill → every affected client connected again | ${f(s.reconnectedMs, 0)} |`,
    `| kill → every affected client caught up (settled) | ${f(s.settledMs, 0)} |`,
    `| per client, kill → connected: p50 / p90 / p99 / max | ${percentiles(s.perClient.ready)} |`,
    `| per client, kill → caught up: p50 / p90 / p99 / max | ${percentiles(s.perClient.caughtUp)} |`,
    "",
    `Reconnected ${s.reconnected} / ${s.affected} (${s.reconnectRetries} retried attempts, ${s.failedReconnects} gave up); ` +
      `not caught up ${s.notCaughtUp}; behind the table's lastSeq afterwards ${s.behindTable}. Outage messages: ` +
      `accepted ${s.outage.accepted} / ${s.outage.sent}, delivered ${s.outage.delivered} / ${s.outage.expected}, ` +
      `dup ${s.outage.duplicates}, order viol. ${s.outage.orderViolations}, seqs repeated by sync and dropped ` +
      `${s.outage.syncRepeats}, kill → delivery p50 / p90 / p99 / max ${percentiles(s.outage.latency)} ms; errors and ` +
      `closes ${JSON.stringify(s.outage.errors)}.`,
    "",
    `**Cost per reconnected client** (kill → settled or the last connect's deferred work, ${f(s.windowS, 1)} s, ` +
      `net of the background rate measured before; the outage messages included): ${f(s.perReconnectedClient.callsTotal, 1)} AWS calls (+ ${f(s.perReconnectedClient.peerHttpTotal, 1)} peer HTTP), ` +
      `DynamoDB writes ${writesLine(s.perReconnectedClient)}; CPU ms ${cpuLine(s.perReconnectedClient)}.`,
    "",
    ...callsTable(s.perReconnectedClient.calls),
    "",
    `**Cost per connect** (${c.connects} clients across the population disconnect, then connect again ${CONNECT_CONCURRENCY} at a ` +
      `time, in ${f(c.seconds, 2)} s; metered ${f(c.windowS, 1)} s, until the last one's deferred catch-up, net ` +
      `of the background rate measured before): ${f(c.callsTotal, 1)} AWS calls (+ ${f(c.peerHttpTotal, 1)} peer HTTP), DynamoDB writes ${writesLine(c)}; CPU ms ${cpuLine(c)}.`,
    "",
    ...callsTable(c.calls),
  ];
}

/** Issue 15's burst, connect and storm targets; "met" is only judged at the default size (1,000 clients). */
export function burstAndStormTargets(r: BenchReport): { target: string; measured: string; met: string }[] {
  const full = r.population.clients >= 1000;
  const judged = (ok: boolean) => (full ? (ok ? "yes" : "no") : `– (${r.population.clients} clients)`);
  const out: { target: string; measured: string; met: string }[] = [];
  const burst = r.burst?.systems.find((s) => s.system === "parley");
  if (burst) {
    out.push({
      target: "burst of 1,000 simultaneous sends delivered, p99 ≤ 1 s",
      measured:
        `${r.burst!.messages} sends: ${burst.delivered} / ${burst.expected} delivered, p99 ${f(burst.latency.p99, 0)} ms, ` +
        `all in ${f(burst.allDeliveredMs, 0)} ms`,
      met: judged(burst.lost === 0 && burst.latency.p99 <= 1000),
    });
  }
  const parley = r.systems.find((s) => s.system === "parley");
  if (parley) {
    out.push({
      target: 'connect 1,000 clients (the bench\'s "connect all") ≤ 2 s',
      measured: `${r.population.clients} in ${f(parley.connect.seconds, 1)} s (${parley.connect.retries} retries)`,
      met: judged(parley.connect.seconds <= 2),
    });
  }
  if (r.storm) {
    const s = r.storm;
    out.push({
      target: "reconnect storm (one gateway of two killed, its clients reconnect to the other and sync) settled ≤ 5 s",
      measured:
        `${s.affected} clients: settled in ${f(s.settledMs, 0)} ms (all connected ${f(s.reconnectedMs, 0)} ms); ` +
        `${f(s.perReconnectedClient.dynamoWritesTotal, 2)} DynamoDB writes and ${f(s.perReconnectedClient.callsTotal, 1)} ` +
        `AWS calls per reconnected client; ${f(s.connect.callsTotal, 1)} AWS calls ` +
        `(+ ${f(s.connect.peerHttpTotal, 1)} peer HTTP) per connect`,
      met: judged(s.settledMs !== null && s.settledMs <= 5000 && s.behindTable === 0),
    });
  }
  return out;
}

const COLORS: Record<string, string> = { parley: "#d9480f", relay: "#1971c2", socketio: "#2f9e44" };

/** Latency by percentile on the classic "nines" x axis (log of 1/(1-p)), log-scaled milliseconds. */
export function toSvg(r: BenchReport): string {
  const W = 720;
  const H = 420;
  const m = { l: 60, r: 20, t: 40, b: 50 };
  const xOf = (p: number) => {
    const nines = Math.log10(1 / Math.max(1e-5, 1 - p / 100));
    return m.l + (Math.min(nines, 5) / 5) * (W - m.l - m.r);
  };
  const all = r.systems.flatMap((s) => s.curve.map((c) => c.ms)).filter((x) => x > 0);
  const lo = Math.max(0.1, Math.min(...all, 1));
  const hi = Math.max(...all, 10);
  const yOf = (ms: number) => {
    const t = (Math.log10(Math.max(ms, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo) || 1);
    return H - m.b - t * (H - m.t - m.b);
  };
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
  );
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${m.l}" y="24" font-size="14">End-to-end latency by percentile (${r.command})</text>`);
  for (const [label, p] of [
    ["0%", 0],
    ["90%", 90],
    ["99%", 99],
    ["99.9%", 99.9],
    ["99.99%", 99.99],
  ] as const) {
    const x = xOf(p);
    parts.push(`<line x1="${x}" y1="${m.t}" x2="${x}" y2="${H - m.b}" stroke="#ddd"/>`);
    parts.push(`<text x="${x}" y="${H - m.b + 16}" text-anchor="middle">${label}</text>`);
  }
  for (let d = Math.floor(Math.log10(lo)); d <= Math.ceil(Math.log10(hi)); d++) {
    const ms = 10 ** d;
    if (ms < lo / 1.01 || ms > hi * 1.01) continue;
    const y = yOf(ms);
    parts.push(`<line x1="${m.l}" y1="${y}" x2="${W - m.r}" y2="${y}" stroke="#ddd"/>`);
    parts.push(`<text x="${m.l - 6}" y="${y + 4}" text-anchor="end">${ms} ms</text>`);
  }
  r.systems.forEach((s, i) => {
    const color = COLORS[s.system] ?? "#555";
    const pts = s.curve.map((c) => `${xOf(c.p).toFixed(1)},${yOf(c.ms).toFixed(1)}`).join(" ");
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts}"/>`);
    parts.push(`<text x="${m.l + 10 + i * 150}" y="${H - 12}" fill="${color}">■ ${s.system} (${s.rate} msg/s)</text>`);
  });
  parts.push("</svg>");
  return parts.join("\n");
}

export interface WrittenFiles {
  readonly json: string;
  readonly markdown: string;
  readonly svg: string;
}

export function writeReport(r: BenchReport, outDir: string): WrittenFiles {
  mkdirSync(outDir, { recursive: true });
  const files = {
    json: path.join(outDir, "latest.json"),
    markdown: path.join(outDir, "latest.md"),
    svg: path.join(outDir, "latest.svg"),
  };
  writeFileSync(files.json, JSON.stringify(r, null, 2));
  writeFileSync(files.markdown, toMarkdown(r));
  writeFileSync(files.svg, toSvg(r));
  return files;
}
