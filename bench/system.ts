/**
 * A system under test (Parley or a baseline) and its measured phases: driving one phase while metering CPU and
 * calls, and summing its phases into the report's SystemReport.
 */
import type { BenchOptions } from "./options";
import { log, sleep } from "./clock";
import {
  drivePhase,
  type DriveOptions,
  newHistogram,
  PhaseRecorder,
  type Histogram,
  type PhaseResult,
  type PhaseSink,
  type SystemClients,
} from "./load";
import { startMeter, type CallCounts, type CounterReading, type CpuSnapshot, type MeteredProcess } from "./metrics";
import { percentileCurve, summarize } from "./latency";
import type { SystemReport } from "./report";
import { planMessages, type PlannedMessage, type Population } from "./workload";

export interface SystemUnderTest {
  readonly name: string;
  clients?: SystemClients;
  readonly processes: () => MeteredProcess[];
  /** Where connections live (Parley: the gateways, not the emulators or the persister). */
  readonly connectionProcesses: () => MeteredProcess[];
  memory: SystemReport["memory"];
  connect?: SystemReport["connect"];
  /** When its last client was connected (bench clock): its connects' deferred work runs on for a while. */
  connectedAtMs?: number;
  idleCores?: Record<string, number>;
  heapGrowth?: SystemReport["heapGrowth"];
  /** Calls over the idle window (run.ts measureIdle), for the per-connection-month cost. */
  idle?: { seconds: number; connections: number; counters: CounterReading };
  readonly phases: { recorder: PhaseRecorder; cpu: CpuSnapshot; calls: CallCounts; billing: CallCounts }[];
}

function merge(hs: (Histogram | undefined)[]): Histogram {
  const out = newHistogram();
  for (const h of hs) if (h) out.add(h);
  return out;
}

export function cpuPer1k(
  cpu: CpuSnapshot,
  delivered: number,
  processes: readonly MeteredProcess[],
): Record<string, number> {
  const out: Record<string, number> = {};
  const per = (s: number) => (delivered > 0 ? s / (delivered / 1000) : 0);
  let total = 0;
  for (const p of processes) {
    out[p.name] = per(cpu[p.name] ?? 0);
    total += cpu[p.name] ?? 0;
  }
  if (processes.length > 1) out.total = per(total);
  out.harness = per(cpu.harness ?? 0);
  return out;
}

export type PhaseRun = { recorder: PhaseRecorder; result: PhaseResult; cpu: CpuSnapshot } & CounterReading;

export async function runPhase(
  sut: SystemUnderTest,
  pop: Population,
  sink: PhaseSink,
  tag: string,
  rate: number,
  durationS: number,
  seed: number,
  o: BenchOptions,
): Promise<PhaseRun> {
  return runPlan(sut, pop, sink, tag, planMessages(pop, rate, durationS, seed), `@${rate}/s`, o);
}

/** Drives one plan (open loop) against a system, metering CPU and calls until its deliveries stop. */
export async function runPlan(
  sut: SystemUnderTest,
  pop: Population,
  sink: PhaseSink,
  tag: string,
  plan: readonly PlannedMessage[],
  what: string,
  o: BenchOptions,
  settle: Pick<DriveOptions, "settleMaxMs" | "settleQuietMs"> = o,
): Promise<PhaseRun> {
  const recorder = new PhaseRecorder(tag, pop, plan);
  sink.register(recorder);
  const meter = await startMeter(sut.processes());
  const result = await drivePhase(sut.clients!, pop, recorder, {
    bodyBytes: o.bodyBytes,
    drainMs: o.drainMs,
    settleMaxMs: settle.settleMaxMs,
    settleQuietMs: settle.settleQuietMs,
    label: `${sut.name} ${tag} ${what}`,
    progress: log,
  });
  const { cpu, calls, billing } = await meter.read();
  const e2e = summarize(result.histograms.e2e);
  log(
    `${sut.name} ${tag} ${what} done: in window ${result.deliveredInWindow}/${result.expected} ` +
      `(p99 ${result.p99InWindowMs.toFixed(1)} ms), after settling ${result.delivered} ` +
      `(${result.meteredS.toFixed(1)} s metered), dup ${result.duplicates}, order ${result.orderViolations}, ` +
      `p50 ${e2e.p50} ms, p99 ${e2e.p99} ms, max ${e2e.max} ms` +
      (Object.keys(result.errors).length ? `, errors ${JSON.stringify(result.errors)}` : ""),
  );
  sink.current = undefined;
  await sleep(300);
  return { recorder, result, cpu, calls, billing };
}

/** Calls by process and operation divided by `count` (messages, connects, clients). */
export function callsPer(calls: CallCounts, count: number): CallCounts {
  const out: CallCounts = {};
  for (const [proc, ops] of Object.entries(calls)) {
    out[proc] = {};
    for (const [op, n] of Object.entries(ops)) out[proc][op] = n / Math.max(1, count);
  }
  return out;
}

/** Outgoing AWS (and peer HTTP) calls per sent message, by process and operation, over the main phases. */
function callsPerMessage(sut: SystemUnderTest): Record<string, Record<string, number>> {
  const sent = sut.phases.reduce((n, p) => n + p.recorder.sent, 0);
  const out: Record<string, Record<string, number>> = {};
  for (const p of sut.phases) {
    for (const [proc, calls] of Object.entries(p.calls)) {
      out[proc] ??= {};
      for (const [op, n] of Object.entries(calls)) out[proc][op] = (out[proc][op] ?? 0) + n / Math.max(1, sent);
    }
  }
  return out;
}

export function systemReport(sut: SystemUnderTest, rate: number): SystemReport {
  const results = sut.phases.map((p) => p.recorder.result());
  const sum = (k: keyof Pick<PhaseResult, "sent" | "expected" | "delivered" | "duplicates" | "orderViolations">) =>
    results.reduce((n, r) => n + r[k], 0);
  const errors: Record<string, number> = {};
  for (const r of results) for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + v;
  const cpuSeconds: Record<string, number> = {};
  for (const p of sut.phases) for (const [k, v] of Object.entries(p.cpu)) cpuSeconds[k] = (cpuSeconds[k] ?? 0) + v;
  const e2e = merge(results.map((r) => r.histograms.e2e));
  const delivered = sum("delivered");
  const window = results.reduce((n, r) => n + r.meteredS, 0);
  const inWindow = results.reduce((n, r) => n + r.deliveredInWindow, 0);
  const parleyStages = results.some((r) => r.histograms.acceptedToStored);
  return {
    system: sut.name,
    phases: results.length,
    rate,
    sent: sum("sent"),
    expected: sum("expected"),
    delivered,
    lost: sum("expected") - delivered,
    late: delivered - inWindow,
    duplicates: sum("duplicates"),
    orderViolations: sum("orderViolations"),
    errors,
    deliveriesPerSecond: window > 0 ? delivered / window : 0,
    latency: summarize(e2e),
    curve: percentileCurve(e2e),
    ...(parleyStages
      ? {
          stages: {
            accept: summarize(merge(results.map((r) => r.histograms.accept))),
            acceptedToStored: summarize(merge(results.map((r) => r.histograms.acceptedToStored))),
            storedToDelivered: summarize(merge(results.map((r) => r.histograms.storedToDelivered))),
          },
        }
      : {}),
    cpuSeconds,
    cpuPer1kDeliveries: cpuPer1k(cpuSeconds, delivered, sut.processes()),
    memory: sut.memory,
    connect: sut.connect ?? { seconds: 0, retries: 0 },
    idleCores: sut.idleCores ?? {},
    callsPerMessage: callsPerMessage(sut),
    ...(sut.heapGrowth ? { heapGrowth: sut.heapGrowth } : {}),
  };
}
