/**
 * `npm run bench [-- --quick] [--clients N] [--rate R] [--duration s] [--profile] [--out dir]`
 *
 * Starts Parley's local stack, a plain ws relay and a Socket.IO server; connects the same clients to all three;
 * runs interleaved open-loop phases at one rate (ABC, then CBA), a burst per system, a Parley rate sweep for the
 * knee, a reconnect-and-sync measurement and, last, Parley's reconnect storm (one gateway killed); with `--mix`,
 * Parley's mixed workload (messages, reactions, edits, receipts; bench/mix.ts) after the main phases; writes
 * bench/results/latest.{json,md,svg}. runBench reads as those steps in order; the options are in options.ts, a
 * system's phases in system.ts, memory per connection in memory.ts, the burst in burst.ts, the storm in storm.ts.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { runCli } from "../runtime/cli/args";
import { directoryTrustDefaults, trustWindowMs } from "../runtime/gateway/context";
import { repoRoot } from "../runtime/local/processes";
import type { LocalStack } from "../runtime/local/stack";
import { startBaseline, type Baseline } from "./baselines/start";
import { burstSystemReport, runBursts } from "./burst";
import { benchStartMs, log, sleep } from "./clock";
import {
  connectParley,
  connectRelay,
  connectSocketIo,
  nowMs,
  ParleyFleet,
  PhaseSink,
  type ClientRange,
  type ParleyTarget,
  type SystemClients,
} from "./load";
import { connectMeasured } from "./memory";
import { costPerConnectionMonth, costPerMillionMessages, sampleTables } from "./cost";
import { callCounts, counterDelta, cpuDelta, cpuSnapshot, PRELOAD, type MeteredProcess } from "./metrics";
import { parseBenchOptions, type BenchOptions } from "./options";
import { meteredProcesses, seedParley, startParley } from "./parley";
import { summarizeProfile } from "./profile";
import { summarize } from "./latency";
import { computeRatios, writeReport, type BenchReport, type SweepStep, type SyncReport } from "./report";
import type { StormReport } from "./phase-reports";
import { CONNECT_TAIL_MS, runStorm } from "./storm";
import { measureSync } from "./sync";
import { runMix } from "./mix";
import { cpuPer1k, runPhase, systemReport, type SystemUnderTest } from "./system";
import { buildPopulation, type Population } from "./workload";

const loadAtStart = os.loadavg();

export async function runBench(o: BenchOptions, command: string): Promise<{ report: BenchReport; files: string[] }> {
  const startedAt = new Date().toISOString();
  const runTag = Date.now().toString(36).slice(-5);
  const pop = buildPopulation(o.clients, o.gateways, runTag);
  log(
    `population: ${o.clients} clients, conversations ${JSON.stringify(conversationsBySize(pop))}, ` +
      `${o.gateways} gateways; rate ${o.rate} msg/s × ${o.durationS} s × ${o.rounds} rounds`,
  );
  const profileDir = path.join(o.outDir, "profiles");
  const heapDir = path.join(o.outDir, "heap");
  if (o.heap) rmSync(heapDir, { recursive: true, force: true });
  if (o.profile) rmSync(profileDir, { recursive: true, force: true });
  const setup: Record<string, number> = {};
  let t = nowMs();
  const stack = await startParley({
    gateways: o.gateways,
    runnerConcurrency: o.runnerConcurrency,
    runnerBatchSize: o.runnerBatchSize,
    preloadEnv: {
      NODE_OPTIONS: `--import=${PRELOAD}`,
      ...(o.profile ? { BENCH_CPU_PROF_DIR: profileDir } : {}),
      ...(o.heap ? { BENCH_HEAP_DIR: heapDir } : {}),
    },
  });
  setup.stackStartMs = nowMs() - t;
  const stackUpAt = nowMs();
  log(`local stack up in ${(setup.stackStartMs / 1000).toFixed(1)} s: ${stack.gateways.map((g) => g.url).join(", ")}`);
  const baselines: Baseline[] = [];
  const sink = new PhaseSink();
  const suts: SystemUnderTest[] = [];
  let fleet: ParleyFleet | undefined;
  try {
    t = nowMs();
    const seeded = await seedParley(stack, pop, { sampleSignups: o.quick ? 0 : 2 });
    Object.assign(setup, seeded.timings);
    setup.seedTotalMs = nowMs() - t;
    log(
      `seeded users, conversations and tokens in ${(setup.seedTotalMs / 1000).toFixed(1)} s ${JSON.stringify(seeded.timings)}`,
    );

    if (o.systems.includes("parley")) {
      // Gateways that have run for a while, as in steady state: a gateway caches no directory answer for its
      // first seconds (trustWindowMs, runtime/gateway/context.ts), so connects then would leave the caches cold.
      const warm = stackUpAt + trustWindowMs(directoryTrustDefaults) - nowMs();
      if (warm > 0) {
        log(`waiting ${(warm / 1000).toFixed(1)} s until the gateways cache directory answers`);
        await sleep(warm);
      }
      fleet = new ParleyFleet(pop.clients);
      suts.push(await connectParleySystem(stack, pop, seeded.tokens, sink, fleet, o, o.heap ? heapDir : undefined));
    }
    for (const [name, entry, connect] of [
      ["relay", "bench/baselines/relay.ts", connectRelay],
      ["socketio", "bench/baselines/socketio.ts", connectSocketIo],
    ] as const) {
      if (!o.systems.includes(name)) continue;
      const b = await startBaseline(name, entry);
      baselines.push(b);
      const sut = newSystem(
        name,
        () => [b.process],
        () => [b.process],
      );
      await connectMeasured(sut, (range) => connect(pop, b.url, sink, range), o.clients, o.settleMs);
      suts.push(sut);
    }

    // Profiles cover the main phases at the target rate (baseline phases in between leave the gateways idle,
    // and idle samples are not counted).
    const profiled = o.profile
      ? meteredProcesses(stack).filter((p) => p.name.startsWith("gw-") || p.name === "persister")
      : [];
    const toggleProfiles = () => profiled.forEach((p) => process.kill(p.pid, "SIGUSR2"));
    await measureIdle(suts, o.idleMs, o.clients);

    // An unrecorded warm-up per system at the main rate: JIT, connection pools and caches (memberships,
    // directory) are filled before anything is measured, for every system alike.
    if (o.warmupS > 0) {
      for (const sut of suts) {
        await runPhase(sut, pop, sink, `w${sut.name.slice(0, 1)}`, o.rate, o.warmupS, o.seed + 50, o);
      }
    }

    toggleProfiles();
    for (let round = 0; round < o.rounds; round++) {
      const order = round % 2 === 0 ? suts : [...suts].reverse();
      for (const sut of order) {
        const tag = `${sut.name.slice(0, 1)}${round}`;
        const { recorder, cpu, calls, billing } = await runPhase(
          sut,
          pop,
          sink,
          tag,
          o.rate,
          o.durationS,
          o.seed + round,
          o,
        );
        sut.phases.push({ recorder, cpu, calls, billing });
      }
    }

    toggleProfiles();
    const parleyTables = o.systems.includes("parley") ? await sampleTables(stack) : {};
    const profileNames = new Map(profiled.map((p) => [`pid-${p.pid}.cpuprofile`, p.name]));
    const parley = suts.find((s) => s.name === "parley");
    // After the main phases (whose table sample above it must not change), before the burst and the sweep.
    const mix =
      parley && fleet && o.mix
        ? await runMix({ stack, sut: parley, fleet, pop, sink, o, tables: () => sampleTables(stack) })
        : undefined;
    const bursts = await runBursts(suts, pop, sink, o);
    const sweep = parley ? await runSweep(parley, pop, sink, o) : [];
    const passing = sweep.filter((s) => s.pass).map((s) => s.rate);
    const kneeRate = passing.length ? Math.max(...passing) : null;

    let sync: SyncReport | undefined;
    if (parley && o.syncMessages > 0) {
      sync = await measureSync(stack, runTag, o.syncMessages);
      log(
        `sync: ${sync.received}/${sync.missed} in ${sync.syncMs.toFixed(1)} ms (open → synced ${sync.connectToSyncedMs.toFixed(1)} ms)`,
      );
    }

    // Last: it kills a gateway for good.
    let storm: StormReport | undefined;
    if (parley && fleet && stack.gateways.length >= 2) {
      storm = await runStorm({ stack, sut: parley, fleet, pop, tokens: seeded.tokens, sink, bodyBytes: o.bodyBytes });
    } else if (parley) log("reconnect storm skipped: it needs at least 2 gateways");

    await waitForLateDeliveries(suts);
    for (const s of suts) await s.clients?.close();
    for (const b of baselines.splice(0)) await b.stop();
    await stack.stop();

    let profile: BenchReport["profile"];
    if (o.profile) {
      profile = readdirSync(profileDir)
        .filter((f) => f.endsWith(".cpuprofile"))
        .map((f) => ({ process: profileNames.get(f) ?? f, ...summarizeProfile(path.join(profileDir, f)) }));
    }

    const systems = suts.map((s) => systemReport(s, o.rate));
    const parleyCost = parley
      ? {
          costPerMillionMessagesUsd: costPerMillionMessages(parley, parleyTables),
          costPerConnectionMonthUsd: costPerConnectionMonth(parley, parleyTables, o.gateways),
        }
      : {};
    const report: BenchReport = {
      startedAt,
      finishedAt: new Date().toISOString(),
      command,
      code: codeVersion(),
      machine: { cpus: os.cpus().length, node: process.version, loadAvgAtStart: loadAtStart },
      options: { ...o },
      population: { clients: o.clients, gateways: o.gateways, conversations: conversationsBySize(pop) },
      setup,
      systems,
      ratios: computeRatios(systems),
      ...parleyCost,
      sweep: {
        steps: sweep,
        kneeRate,
        criterion: "highest rate with end-to-end p99 < 100 ms and zero loss; the sweep stops at the first failure",
      },
      burst: {
        messages: pop.clients,
        systems: suts.flatMap((s) => bursts.filter((b) => b.sut === s).map((b) => burstSystemReport(s, b.run))),
      },
      ...(storm ? { storm } : {}),
      ...(mix ? { mix } : {}),
      ...(sync ? { sync } : {}),
      ...(profile ? { profile } : {}),
      durationS: (nowMs() - benchStartMs) / 1000,
    };
    const files = writeReport(report, o.outDir);
    return { report, files: Object.values(files) };
  } catch (err) {
    for (const g of stack.gateways) log(`${g.id} output (tail):\n${g.process.output().slice(-2000)}`);
    throw err;
  } finally {
    for (const s of suts) await s.clients?.close().catch(() => undefined);
    for (const b of baselines) await b.stop().catch(() => undefined);
    await stack.stop().catch(() => undefined);
  }
}

function newSystem(
  name: string,
  processes: () => MeteredProcess[],
  connectionProcesses: () => MeteredProcess[],
): SystemUnderTest {
  const memory = {
    connections: 0,
    rssBeforeBytes: 0,
    rssAfterBytes: 0,
    perConnectionBytes: 0,
    heapPerConnectionBytes: 0,
    externalPerConnectionBytes: 0,
  };
  return { name, processes, connectionProcesses, memory, phases: [] };
}

/**
 * Parley's clients spread over its gateways, their sockets and seqs in `fleet` (the storm reconnects them); with
 * `heapDir`, heap growth is attributed on the first gateway.
 */
async function connectParleySystem(
  stack: LocalStack,
  pop: Population,
  tokens: ParleyTarget["tokens"],
  sink: PhaseSink,
  fleet: ParleyFleet,
  o: BenchOptions,
  heapDir: string | undefined,
): Promise<SystemUnderTest> {
  const sut = newSystem(
    "parley",
    () => meteredProcesses(stack),
    () => meteredProcesses(stack).filter((p) => p.name.startsWith("gw-")),
  );
  const target = { gatewayUrls: stack.gateways.map((g) => g.url), tokens };
  const heap = heapDir
    ? {
        dir: heapDir,
        connectionsOn: (proc: MeteredProcess, range: ClientRange) => {
          const g = stack.gateways.findIndex((gw) => gw.id === proc.name);
          let n = 0;
          for (let i = range.from; i < range.to; i++) if (pop.gatewayOf[i] === g) n++;
          return n;
        },
      }
    : undefined;
  const connect = (range: ClientRange): Promise<SystemClients> => connectParley(pop, target, sink, range, fleet);
  await connectMeasured(sut, connect, o.clients, o.settleMs, heap);
  return sut;
}

/**
 * Background cost with every client connected and nobody talking (heartbeats, polling, presence): CPU and calls.
 * It starts once the last connect's deferred work is over (CONNECT_TAIL_MS, the outbox's catch-up): that work is
 * a cost per connect, measured as such, and scaled to a month here it would count as if it recurred.
 */
async function measureIdle(suts: readonly SystemUnderTest[], idleMs: number, connections: number): Promise<void> {
  const quietFrom = Math.max(0, ...suts.map((s) => (s.connectedAtMs ?? 0) + CONNECT_TAIL_MS));
  await sleep(Math.max(0, quietFrom - nowMs()));
  const idleProcs = suts.flatMap((s) => s.processes().map((p) => ({ ...p, name: `${s.name}:${p.name}` })));
  const countersBefore = await Promise.all(suts.map((s) => callCounts(s.processes())));
  const idleBefore = cpuSnapshot(idleProcs);
  const idleStart = nowMs();
  await sleep(idleMs);
  const idleDelta = cpuDelta(idleBefore, cpuSnapshot(idleProcs));
  const idleS = (nowMs() - idleStart) / 1000;
  for (const [i, s] of suts.entries()) {
    s.idleCores = Object.fromEntries(
      s.processes().map((p) => [p.name, (idleDelta[`${s.name}:${p.name}`] ?? 0) / idleS]),
    );
    s.idle = {
      seconds: idleS,
      connections,
      counters: counterDelta(countersBefore[i]!, await callCounts(s.processes())),
    };
  }
  log(`idle CPU (cores): ${suts.map((s) => `${s.name} ${JSON.stringify(s.idleCores)}`).join("; ")}`);
}

/** Parley alone at rising rates, stopping at the first step that loses a message or misses p99 < 100 ms. */
async function runSweep(
  parley: SystemUnderTest,
  pop: Population,
  sink: PhaseSink,
  o: BenchOptions,
): Promise<SweepStep[]> {
  const sweep: SweepStep[] = [];
  for (const [i, rate] of o.sweepRates.entries()) {
    const { result, cpu } = await runPhase(parley, pop, sink, `k${i}`, rate, o.sweepDurationS, o.seed + 100 + i, o);
    const latency = summarize(result.histograms.e2e);
    const lost = result.expected - result.deliveredInWindow;
    const pass = lost === 0 && result.p99InWindowMs < 100;
    sweep.push({
      rate,
      expected: result.expected,
      delivered: result.deliveredInWindow,
      lost,
      latency,
      p99InWindowMs: result.p99InWindowMs,
      pass,
      cpuPer1kDeliveries: cpuPer1k(cpu, result.delivered, parley.processes()),
    });
    if (!pass) break;
  }
  return sweep;
}

/** Late deliveries still count (as late, not lost): give any backlog a last chance before disconnecting. */
async function waitForLateDeliveries(suts: readonly SystemUnderTest[]): Promise<void> {
  const outstanding = () =>
    suts.reduce((n, s) => n + s.phases.reduce((k, p) => k + p.recorder.expected - p.recorder.delivered, 0), 0);
  for (let last = -1, i = 0; outstanding() > 0 && outstanding() !== last && i < 10; i++) {
    last = outstanding();
    await sleep(1_500);
  }
}

function conversationsBySize(pop: Population): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of pop.conversations) out[String(c.size)] = (out[String(c.size)] ?? 0) + 1;
  return out;
}

/** The code under test: HEAD, and whether runtime/ had uncommitted changes (others work in the same tree). */
function codeVersion(): string {
  try {
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: repoRoot }).toString().trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "runtime"], { cwd: repoRoot }).toString().trim();
    return dirty ? `${head} + uncommitted changes in runtime/` : head;
  } catch {
    return "unknown";
  }
}

if (require.main === module) {
  void runCli("bench", async () => {
    const argv = process.argv.slice(2);
    const o = parseBenchOptions(argv);
    const { report, files } = await runBench(o, ["npm run bench", ...(argv.length ? ["--", ...argv] : [])].join(" "));
    log(`done in ${report.durationS.toFixed(0)} s; wrote ${files.map((f) => path.relative(repoRoot, f)).join(", ")}`);
    return 0;
  });
}
