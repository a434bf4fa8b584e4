/**
 * `npm run bench [-- --quick] [--clients N] [--rate R] [--duration s] [--profile] [--out dir]`
 *
 * Starts Parley's local stack, a plain ws relay and a Socket.IO server; connects the same clients to all three;
 * runs interleaved open-loop phases at one rate (ABC, then CBA), a Parley rate sweep for the knee, and a
 * reconnect-and-sync measurement; writes bench/results/latest.{json,md,svg}.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { existsSync, readdirSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import WebSocket from "ws";
import { defineCli, int, num, oneOf, parseCli, runCli } from "../runtime/cli/args";
import { sleep } from "../runtime/gateway/util";
import { repoRoot } from "../runtime/local/processes";
import type { LocalStack } from "../runtime/local/stack";
import {
  connectParley,
  connectRelay,
  combineClients,
  connectSocketIo,
  drivePhase,
  type ClientRange,
  newHistogram,
  nowMs,
  PhaseRecorder,
  PhaseSink,
  type Histogram,
  type PhaseResult,
  type SystemClients,
} from "./load";
import {
  callCounts,
  callDelta,
  cpuDelta,
  cpuSnapshot,
  lastHeapReading,
  sumRss,
  type CallCounts,
  type CpuSnapshot,
  type MeteredProcess,
} from "./metrics";
import { meteredProcesses, seedMissedMessages, seedParley, seedSyncPair, startParley } from "./parley";
import { heapGrowth } from "./heap";
import { summarizeProfile } from "./profile";
import {
  computeRatios,
  percentileCurve,
  summarize,
  writeReport,
  type BenchReport,
  type SweepStep,
  type SyncReport,
  type SystemReport,
} from "./report";
import { buildPopulation, planMessages, type Population } from "./workload";

export interface BenchOptions {
  quick: boolean;
  clients: number;
  gateways: number;
  rate: number;
  durationS: number;
  rounds: number;
  sweepRates: number[];
  sweepDurationS: number;
  drainMs: number;
  settleMaxMs: number;
  bodyBytes: number;
  settleMs: number;
  idleMs: number;
  warmupS: number;
  syncMessages: number;
  runnerConcurrency: number;
  runnerBatchSize: number;
  profile: boolean;
  heap: boolean;
  systems: string[];
  outDir: string;
  seed: number;
}

const SYSTEMS = ["parley", "relay", "socketio"] as const;

const quickPreset: BenchOptions = {
  quick: true,
  clients: 100,
  gateways: 2,
  rate: 100,
  durationS: 3,
  rounds: 1,
  sweepRates: [100, 200],
  sweepDurationS: 3,
  drainMs: 2_000,
  settleMaxMs: 4_000,
  bodyBytes: 100,
  settleMs: 500,
  idleMs: 2_000,
  warmupS: 0,
  syncMessages: 50,
  runnerConcurrency: 8,
  runnerBatchSize: 10,
  profile: false,
  heap: false,
  systems: [...SYSTEMS],
  outDir: path.join(repoRoot, "bench/results"),
  seed: 7,
};

const fullPreset: BenchOptions = {
  ...quickPreset,
  quick: false,
  clients: 1000,
  // The side-by-side runs where Parley keeps up on this 2-core machine (≈ 50–60 msg/s, see
  // docs/benchmark.md); the sweep goes on to the targets (500 and 2,000 msg/s) and stops at the knee.
  rate: 50,
  durationS: 10,
  rounds: 2,
  sweepRates: [25, 50, 100, 250, 500, 1000, 2000],
  sweepDurationS: 6,
  drainMs: 5_000,
  settleMaxMs: 20_000,
  settleMs: 3_000,
  // One gateway heartbeat period (its default), so every connection refresh falls inside the window.
  idleMs: 25_000,
  warmupS: 5,
  syncMessages: 1000,
};

/** Both presets' values, so `--help` shows what each run actually uses. */
function presetDefault(show: (o: BenchOptions) => unknown): string {
  const fmt = (v: unknown) => (Array.isArray(v) ? v.join(",") : String(v));
  const full = fmt(show(fullPreset));
  const quick = fmt(show(quickPreset));
  return full === quick ? full : `${full}; with --quick ${quick}`;
}

export const benchCli = defineCli({
  command: "npm run bench --",
  summary:
    "Parley's local stack, a plain ws relay and a Socket.IO server under the same clients: interleaved open-loop " +
    "phases, a Parley rate sweep for the knee, reconnect-and-sync; writes <out>/latest.{json,md,svg}.",
  maxPositionals: 0,
  options: {
    quick: { type: "boolean", description: "100 clients, short phases: checks that everything runs" },
    clients: {
      type: "string",
      value: "n",
      description: "connected clients per system",
      defaultText: presetDefault((o) => o.clients),
      parse: int(4),
    },
    gateways: {
      type: "string",
      value: "n",
      description: "Parley gateway processes",
      defaultText: presetDefault((o) => o.gateways),
      parse: int(1, 16),
    },
    rate: {
      type: "string",
      value: "msg/s",
      description: "side-by-side message rate",
      defaultText: presetDefault((o) => o.rate),
      parse: num(0),
    },
    duration: {
      type: "string",
      value: "s",
      description: "length of each side-by-side phase",
      defaultText: presetDefault((o) => o.durationS),
      parse: num(0),
    },
    warmup: {
      type: "string",
      value: "s",
      description: "unmeasured warm-up before the phases",
      defaultText: presetDefault((o) => o.warmupS),
      parse: num(0),
    },
    rounds: {
      type: "string",
      value: "n",
      description: "ABC/CBA rounds",
      defaultText: presetDefault((o) => o.rounds),
      parse: int(0),
    },
    sweep: {
      type: "string",
      value: "r1,r2,…",
      description: "Parley sweep rates in msg/s (0 = no sweep)",
      defaultText: presetDefault((o) => o.sweepRates),
      parse: (raw, flag) =>
        raw
          .split(",")
          .map((part) => num(0)(part, flag))
          .filter((n) => n > 0),
    },
    "sweep-duration": {
      type: "string",
      value: "s",
      description: "length of each sweep step",
      defaultText: presetDefault((o) => o.sweepDurationS),
      parse: num(0),
    },
    drain: {
      type: "string",
      value: "s",
      description: "wait for in-flight messages after a phase",
      defaultText: presetDefault((o) => o.drainMs / 1000),
      parse: num(0),
    },
    "body-bytes": {
      type: "string",
      value: "n",
      description: "message body size",
      defaultText: presetDefault((o) => o.bodyBytes),
      parse: int(1),
    },
    "sync-messages": {
      type: "string",
      value: "n",
      description: "messages missed before the reconnect-and-sync measurement (0 = skip it)",
      defaultText: presetDefault((o) => o.syncMessages),
      parse: int(0),
    },
    "runner-concurrency": {
      type: "string",
      value: "n",
      description: "persister runner concurrency",
      defaultText: presetDefault((o) => o.runnerConcurrency),
      parse: int(1),
    },
    "runner-batch": {
      type: "string",
      value: "n",
      description: "persister runner batch size (SQS allows 1–10)",
      defaultText: presetDefault((o) => o.runnerBatchSize),
      parse: int(1, 10),
    },
    systems: {
      type: "string",
      value: "list",
      description: `systems to run, any of ${SYSTEMS.join(",")}`,
      defaultText: presetDefault((o) => o.systems),
      parse: (raw, flag) => raw.split(",").map((part) => oneOf(SYSTEMS)(part, flag)),
    },
    profile: { type: "boolean", description: "CPU-profile every process during the measured phase" },
    heap: { type: "boolean", description: "heap snapshots to attribute memory per connection" },
    out: {
      type: "string",
      value: "dir",
      description: "where the report files go",
      defaultText: path.relative(repoRoot, fullPreset.outDir),
      parse: (raw) => path.resolve(raw),
    },
    seed: {
      type: "string",
      value: "n",
      description: "workload random seed",
      defaultText: presetDefault((o) => o.seed),
      parse: int(0),
    },
  },
  notes: "Exit codes: 0 report written, 1 the run failed, 2 usage.",
});

export function parseArgs(argv: readonly string[]): BenchOptions {
  const { values: v } = parseCli(benchCli, argv);
  const p = v.quick ? quickPreset : fullPreset;
  return {
    ...p,
    systems: [...(v.systems ?? p.systems)],
    sweepRates: [...(v.sweep ?? p.sweepRates)],
    clients: v.clients ?? p.clients,
    gateways: v.gateways ?? p.gateways,
    rate: v.rate ?? p.rate,
    durationS: v.duration ?? p.durationS,
    warmupS: v.warmup ?? p.warmupS,
    rounds: v.rounds ?? p.rounds,
    sweepDurationS: v["sweep-duration"] ?? p.sweepDurationS,
    drainMs: v.drain === undefined ? p.drainMs : v.drain * 1000,
    bodyBytes: v["body-bytes"] ?? p.bodyBytes,
    syncMessages: v["sync-messages"] ?? p.syncMessages,
    runnerConcurrency: v["runner-concurrency"] ?? p.runnerConcurrency,
    runnerBatchSize: v["runner-batch"] ?? p.runnerBatchSize,
    profile: v.profile,
    heap: v.heap,
    outDir: v.out ?? p.outDir,
    seed: v.seed ?? p.seed,
  };
}

/** GC on SIGWINCH and the SIGUSR2 profiler, in every metered process. */
const PRELOAD = path.join(repoRoot, "bench/preload.mjs");

const t0 = nowMs();
const log = (line: string) => process.stderr.write(`[bench +${((nowMs() - t0) / 1000).toFixed(1)}s] ${line}\n`);

interface Baseline {
  readonly url: string;
  readonly process: MeteredProcess;
  stop(): Promise<void>;
}

/** A baseline server in its own process, so its CPU and RSS are its own. */
async function startBaseline(name: string, entry: string): Promise<Baseline> {
  const child: ChildProcess = spawn(process.execPath, ["--import", PRELOAD, "--import", "tsx", entry], {
    cwd: repoRoot,
    env: { ...process.env, NODE_NO_WARNINGS: "1", PORT: "0" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-100_000)));
  const lines = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start`)), 20_000);
    lines.on("line", (l) => {
      const m = /^listening (\d+)/.exec(l);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once("exit", (code) => reject(new Error(`${name} exited (${code})`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    process: { name: "server", pid: child.pid!, output: () => stderr },
    stop: async () => {
      if (child.exitCode !== null) return;
      const done = once(child, "exit");
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 3_000);
      await done;
      clearTimeout(timer);
    },
  };
}

interface SystemUnderTest {
  readonly name: string;
  clients?: SystemClients;
  readonly processes: () => MeteredProcess[];
  /** Where connections live (Parley: the gateways, not the emulators or the persister). */
  readonly connectionProcesses: () => MeteredProcess[];
  memory: SystemReport["memory"];
  connect?: SystemReport["connect"];
  idleCores?: Record<string, number>;
  heapGrowth?: SystemReport["heapGrowth"];
  readonly phases: { recorder: PhaseRecorder; cpu: CpuSnapshot; calls: CallCounts }[];
}

function conversationsBySize(pop: Population): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of pop.conversations) out[String(c.size)] = (out[String(c.size)] ?? 0) + 1;
  return out;
}

function merge(hs: (Histogram | undefined)[]): Histogram {
  const out = newHistogram();
  for (const h of hs) if (h) out.add(h);
  return out;
}

function cpuPer1k(cpu: CpuSnapshot, delivered: number, processes: readonly MeteredProcess[]): Record<string, number> {
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

async function runPhase(
  sut: SystemUnderTest,
  pop: Population,
  sink: PhaseSink,
  tag: string,
  rate: number,
  durationS: number,
  seed: number,
  o: BenchOptions,
): Promise<{ recorder: PhaseRecorder; result: PhaseResult; cpu: CpuSnapshot; calls: CallCounts }> {
  const plan = planMessages(pop, rate, durationS, seed);
  const recorder = new PhaseRecorder(tag, pop, plan);
  sink.register(recorder);
  const procs = sut.processes();
  const callsBefore = await callCounts(procs);
  const before = cpuSnapshot(procs);
  const result = await drivePhase(sut.clients!, pop, recorder, {
    bodyBytes: o.bodyBytes,
    drainMs: o.drainMs,
    settleMaxMs: o.settleMaxMs,
    label: `${sut.name} ${tag} @${rate}/s`,
    progress: log,
  });
  const cpu = cpuDelta(before, cpuSnapshot(procs));
  const calls = callDelta(callsBefore, await callCounts(procs));
  const e2e = summarize(result.histograms.e2e);
  log(
    `${sut.name} ${tag} @${rate}/s done: in window ${result.deliveredInWindow}/${result.expected} ` +
      `(p99 ${result.p99InWindowMs.toFixed(1)} ms), after settling ${result.delivered} ` +
      `(${result.meteredS.toFixed(1)} s metered), dup ${result.duplicates}, order ${result.orderViolations}, ` +
      `p50 ${e2e.p50} ms, p99 ${e2e.p99} ms, max ${e2e.max} ms` +
      (Object.keys(result.errors).length ? `, errors ${JSON.stringify(result.errors)}` : ""),
  );
  sink.current = undefined;
  await sleep(300);
  return { recorder, result, cpu, calls };
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

function systemReport(sut: SystemUnderTest, rate: number): SystemReport {
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

/** RSS of the processes after asking each for a full GC (the preload runs gc() on SIGWINCH). */
async function rssAfterGc(
  procs: readonly MeteredProcess[],
): Promise<{ rss: number; heapUsed: number; external: number }> {
  for (const p of procs) {
    try {
      process.kill(p.pid, "SIGWINCH");
    } catch {
      // gone: sumRss reads 0 for it
    }
  }
  await sleep(500);
  const heaps = procs.map(lastHeapReading);
  return {
    rss: sumRss(procs),
    heapUsed: heaps.reduce((n, h) => n + (h?.heapUsed ?? 0), 0),
    external: heaps.reduce((n, h) => n + (h?.external ?? 0), 0),
  };
}

/**
 * Connects one system's clients in two halves and takes the RSS growth of the second half per connection, each
 * reading after a settle period and a forced GC: the first half pays for warm-up (JIT, pools, caches), which is
 * not a per-connection cost.
 */
/** Asks `proc` for a heap snapshot (preload, SIGTTIN) and waits until the file is complete. */
async function heapSnapshot(proc: MeteredProcess, dir: string): Promise<string> {
  const list = () => (existsSync(dir) ? readdirSync(dir).filter((f) => f.startsWith(`pid-${proc.pid}-`)) : []);
  const known = new Set(list());
  process.kill(proc.pid, "SIGTTIN");
  const deadline = nowMs() + 120_000;
  let file: string | undefined;
  let lastSize = -1;
  while (nowMs() < deadline) {
    await sleep(500);
    file ??= list().find((f) => !known.has(f));
    if (!file) continue;
    const size = statSync(path.join(dir, file)).size;
    if (size > 0 && size === lastSize) return path.join(dir, file);
    lastSize = size;
  }
  throw new Error(`no heap snapshot from ${proc.name}`);
}

async function connectMeasured(
  sut: SystemUnderTest,
  connect: (range: ClientRange) => Promise<SystemClients>,
  clients: number,
  settleMs: number,
  heap?: { dir: string; connectionsOn: (proc: MeteredProcess, range: ClientRange) => number },
): Promise<void> {
  const t = nowMs();
  const half = Math.floor(clients / 2);
  const first = await connect({ from: 0, to: half });
  await sleep(settleMs);
  const before = await rssAfterGc(sut.connectionProcesses());
  const heapProc = heap ? sut.connectionProcesses()[0] : undefined;
  const heapBefore = heap && heapProc ? await heapSnapshot(heapProc, heap.dir) : undefined;
  const second = await connect({ from: half, to: clients });
  sut.clients = combineClients([first, second]);
  const connectS = (nowMs() - t - settleMs) / 1000;
  await sleep(settleMs);
  const after = await rssAfterGc(sut.connectionProcesses());
  if (heap && heapProc && heapBefore) {
    const heapAfter = await heapSnapshot(heapProc, heap.dir);
    const n = heap.connectionsOn(heapProc, { from: half, to: clients });
    sut.heapGrowth = { process: heapProc.name, connections: n, top: heapGrowth(heapBefore, heapAfter, n) };
    log(`heap growth per connection on ${heapProc.name}: ${JSON.stringify(sut.heapGrowth.top.slice(0, 6))}`);
  }
  const retries = sut.clients.connectRetries ?? 0;
  log(`${sut.name}: ${clients} clients connected in ${connectS.toFixed(1)} s (${retries} retried attempts)`);
  sut.connect = { seconds: connectS, retries };
  const measured = clients - half;
  sut.memory = {
    connections: measured,
    rssBeforeBytes: before.rss,
    rssAfterBytes: after.rss,
    perConnectionBytes: Math.max(0, (after.rss - before.rss) / measured),
    heapPerConnectionBytes: (after.heapUsed - before.heapUsed) / measured,
    externalPerConnectionBytes: (after.external - before.external) / measured,
  };
}

/** A client misses `count` stored messages, then reconnects and syncs them; timed from the client's side. */
async function measureSync(stack: LocalStack, runTag: string, count: number): Promise<SyncReport> {
  const pair = await seedSyncPair(stack, runTag);
  await seedMissedMessages(stack, pair.conversationId, pair.users[0], count);
  const gateway = stack.gateways[stack.gateways.length - 1]!;
  const opened = nowMs();
  let received = 0;
  let syncSent = 0;
  const ws = new WebSocket(gateway.url.replace(/^http/, "ws") + "/ws", ["parley.v1", "parley.auth." + pair.tokens[1]], {
    origin: gateway.url,
    perMessageDeflate: false,
  });
  const done = await Promise.race([
    new Promise<number>((resolve, reject) => {
      ws.once("error", reject);
      ws.on("message", (d) => {
        const f = JSON.parse(d.toString()) as { type: string };
        if (f.type === "ready") {
          syncSent = nowMs();
          ws.send(JSON.stringify({ type: "sync", cursors: [{ conversationId: pair.conversationId, afterSeq: 0 }] }));
        } else if (f.type === "message") received++;
        else if (f.type === "synced") resolve(nowMs());
      });
    }),
    sleep(30_000).then(() => NaN),
  ]);
  ws.close();
  return { missed: count, received, syncMs: done - syncSent, connectToSyncedMs: done - opened };
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
  log(`local stack up in ${(setup.stackStartMs / 1000).toFixed(1)} s: ${stack.gateways.map((g) => g.url).join(", ")}`);
  const baselines: Baseline[] = [];
  const sink = new PhaseSink();
  const suts: SystemUnderTest[] = [];
  const emptyMemory = {
    connections: 0,
    rssBeforeBytes: 0,
    rssAfterBytes: 0,
    perConnectionBytes: 0,
    heapPerConnectionBytes: 0,
    externalPerConnectionBytes: 0,
  };
  try {
    t = nowMs();
    const seeded = await seedParley(stack, pop, { sampleSignups: o.quick ? 0 : 2 });
    Object.assign(setup, seeded.timings);
    setup.seedTotalMs = nowMs() - t;
    log(
      `seeded users, conversations and tokens in ${(setup.seedTotalMs / 1000).toFixed(1)} s ${JSON.stringify(seeded.timings)}`,
    );

    if (o.systems.includes("parley")) {
      const sut: SystemUnderTest = {
        name: "parley",
        processes: () => meteredProcesses(stack),
        connectionProcesses: () => meteredProcesses(stack).filter((p) => p.name.startsWith("gw-")),
        memory: emptyMemory,
        phases: [],
      };
      const target = { gatewayUrls: stack.gateways.map((g) => g.url), tokens: seeded.tokens };
      const heap = o.heap
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
      await connectMeasured(sut, (range) => connectParley(pop, target, sink, range), o.clients, o.settleMs, heap);
      suts.push(sut);
    }
    for (const [name, entry, connect] of [
      ["relay", "bench/baselines/relay.ts", connectRelay],
      ["socketio", "bench/baselines/socketio.ts", connectSocketIo],
    ] as const) {
      if (!o.systems.includes(name)) continue;
      const b = await startBaseline(name, entry);
      baselines.push(b);
      const sut: SystemUnderTest = {
        name,
        processes: () => [b.process],
        connectionProcesses: () => [b.process],
        memory: emptyMemory,
        phases: [],
      };
      await connectMeasured(sut, (range) => connect(pop, b.url, sink, range), o.clients, o.settleMs);
      suts.push(sut);
    }

    // Profiles cover the main phases at the target rate (baseline phases in between leave the gateways idle,
    // and idle samples are not counted).
    const profiled = o.profile
      ? meteredProcesses(stack).filter((p) => p.name.startsWith("gw-") || p.name === "persister")
      : [];
    const toggleProfiles = () => profiled.forEach((p) => process.kill(p.pid, "SIGUSR2"));
    // Background cost with every client connected and nobody talking (heartbeats, polling, presence).
    const idleProcs = suts.flatMap((s) => s.processes().map((p) => ({ ...p, name: `${s.name}:${p.name}` })));
    const idleBefore = cpuSnapshot(idleProcs);
    const idleStart = nowMs();
    await sleep(o.idleMs);
    const idleDelta = cpuDelta(idleBefore, cpuSnapshot(idleProcs));
    const idleS = (nowMs() - idleStart) / 1000;
    for (const s of suts) {
      s.idleCores = Object.fromEntries(
        s.processes().map((p) => [p.name, (idleDelta[`${s.name}:${p.name}`] ?? 0) / idleS]),
      );
    }
    log(`idle CPU (cores): ${suts.map((s) => `${s.name} ${JSON.stringify(s.idleCores)}`).join("; ")}`);

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
        const { recorder, cpu, calls } = await runPhase(sut, pop, sink, tag, o.rate, o.durationS, o.seed + round, o);
        sut.phases.push({ recorder, cpu, calls });
      }
    }

    toggleProfiles();
    const profileNames = new Map(profiled.map((p) => [`pid-${p.pid}.cpuprofile`, p.name]));
    const sweep: SweepStep[] = [];
    const parley = suts.find((s) => s.name === "parley");
    if (parley) {
      for (const [i, rate] of o.sweepRates.entries()) {
        const { result, cpu } = await runPhase(parley, pop, sink, `s${i}`, rate, o.sweepDurationS, o.seed + 100 + i, o);
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
    }
    const passing = sweep.filter((s) => s.pass).map((s) => s.rate);
    const kneeRate = passing.length ? Math.max(...passing) : null;

    let sync: SyncReport | undefined;
    if (parley && o.syncMessages > 0) {
      sync = await measureSync(stack, runTag, o.syncMessages);
      log(
        `sync: ${sync.received}/${sync.missed} in ${sync.syncMs.toFixed(1)} ms (open → synced ${sync.connectToSyncedMs.toFixed(1)} ms)`,
      );
    }

    // Late deliveries still count (as late, not lost): give any backlog a last chance before disconnecting.
    const outstanding = () =>
      suts.reduce((n, s) => n + s.phases.reduce((k, p) => k + p.recorder.expected - p.recorder.delivered, 0), 0);
    for (let last = -1, i = 0; outstanding() > 0 && outstanding() !== last && i < 10; i++) {
      last = outstanding();
      await sleep(1_500);
    }
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
      sweep: {
        steps: sweep,
        kneeRate,
        criterion: "highest rate with end-to-end p99 < 100 ms and zero loss; the sweep stops at the first failure",
      },
      ...(sync ? { sync } : {}),
      ...(profile ? { profile } : {}),
      durationS: (nowMs() - t0) / 1000,
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

const loadAtStart = os.loadavg();

if (require.main === module) {
  void runCli("bench", async () => {
    const argv = process.argv.slice(2);
    const o = parseArgs(argv);
    const { report, files } = await runBench(o, ["npm run bench", ...(argv.length ? ["--", ...argv] : [])].join(" "));
    log(`done in ${report.durationS.toFixed(0)} s; wrote ${files.map((f) => path.relative(repoRoot, f)).join(", ")}`);
    return 0;
  });
}
