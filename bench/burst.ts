/**
 * The burst phase: every connected client sends exactly one message in the same tick (no open-loop spreading),
 * and the phase measures how long the system takes to deliver all of them, per system, side by side.
 */
import type { BenchOptions } from "./options";
import type { PhaseSink } from "./load";
import { summarize } from "./latency";
import type { BurstSystemReport } from "./phase-reports";
import { callsPer, cpuPer1k, runPlan, type PhaseRun, type SystemUnderTest } from "./system";
import type { PlannedMessage, Population } from "./workload";

/**
 * A burst waits up to a minute for its last deliveries before the next phase (a slow system's backlog is its
 * cost), and does not give up on a quiet spell shorter than 10 s: a loaded Parley can take seconds to deliver the
 * first message of a burst.
 */
const BURST_SETTLE = { settleMaxMs: 60_000, settleQuietMs: 10_000 };

/** One message per client, all due at 0: the whole burst leaves in the driver's first tick. */
export function planBurst(pop: Population): PlannedMessage[] {
  return Array.from({ length: pop.clients }, (_, sender) => ({
    conversation: pop.conversationOf[sender]!,
    sender,
    senderSeq: 1,
    dueMs: 0,
  }));
}

/** The burst of one system as it stands now (late deliveries keep counting until the run ends). */
export function burstSystemReport(sut: SystemUnderTest, run: PhaseRun): BurstSystemReport {
  const r = run.recorder.result();
  const complete = r.delivered === r.expected && r.expected > 0;
  return {
    system: sut.name,
    sent: r.sent,
    accepted: r.accepted,
    expected: r.expected,
    delivered: r.delivered,
    lost: r.expected - r.delivered,
    late: r.delivered - r.deliveredInWindow,
    duplicates: r.duplicates,
    orderViolations: r.orderViolations,
    errors: r.errors,
    allDeliveredMs: complete ? run.recorder.lastDeliveryAt - run.recorder.startedAt : null,
    latency: summarize(r.histograms.e2e),
    cpuSeconds: run.cpu,
    cpuPer1kDeliveries: cpuPer1k(run.cpu, r.delivered, sut.processes()),
    callsPerMessage: callsPer(run.calls, r.sent),
  };
}

/**
 * One burst per system, the baselines first: a system that cannot keep up leaves a backlog, and the ones after
 * it would pay for it. Returns the runs; the report is taken at the end of the bench (late deliveries count).
 */
export async function runBursts(
  suts: readonly SystemUnderTest[],
  pop: Population,
  sink: PhaseSink,
  o: BenchOptions,
): Promise<{ sut: SystemUnderTest; run: PhaseRun }[]> {
  const plan = planBurst(pop);
  const order = [...suts.filter((s) => s.name !== "parley"), ...suts.filter((s) => s.name === "parley")];
  const out: { sut: SystemUnderTest; run: PhaseRun }[] = [];
  for (const sut of order) {
    const tag = `b${sut.name.slice(0, 1)}`;
    const what = `burst of ${plan.length}`;
    out.push({ sut, run: await runPlan(sut, pop, sink, tag, plan, what, o, BURST_SETTLE) });
  }
  return out;
}
