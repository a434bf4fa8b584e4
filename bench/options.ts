/**
 * The bench's options: the full run's values, the quick run as overrides of them, and the command line that picks
 * one and overrides single values. `--help` shows both presets' defaults, read from the same objects.
 */
import path from "node:path";
import { defineCli, int, num, oneOf, parseCli, UsageError } from "../runtime/cli/args";
import { repoRoot } from "../runtime/local/processes";

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
  /** `--mix`: Parley's mixed-workload step (bench/mix.ts) with these shares, or null for none. */
  mix: MixShares | null;
}

/** The entry kinds of the mixed workload: `send`, `react`, `edit` and `read` frames. */
export const MIX_KINDS = ["messages", "reactions", "edits", "receipts"] as const;
export type MixKind = (typeof MIX_KINDS)[number];
/** Percent of the mixed workload's entries per kind; they add up to 100. */
export type MixShares = Record<MixKind, number>;

/**
 * `--mix messages=80,reactions=10,edits=5,receipts=5`: percentages per kind (a kind left out is 0) that add up to
 * 100. Reactions and edits target recent messages, so they need messages in the mix.
 */
export function parseMix(raw: string, flag: string): MixShares {
  const shares: MixShares = { messages: 0, reactions: 0, edits: 0, receipts: 0 };
  const given = new Set<string>();
  for (const part of raw.split(",")) {
    const m = /^\s*([a-z]+)\s*=\s*(\d+(?:\.\d+)?)\s*$/.exec(part);
    if (!m) throw new UsageError(`${flag} takes kind=percent pairs, e.g. messages=80,reactions=20; got "${part}"`);
    const kind = m[1]!;
    if (!(MIX_KINDS as readonly string[]).includes(kind)) {
      throw new UsageError(`${flag}: unknown kind "${kind}" (one of ${MIX_KINDS.join(", ")})`);
    }
    if (given.has(kind)) throw new UsageError(`${flag}: ${kind} given twice`);
    given.add(kind);
    shares[kind as MixKind] = Number(m[2]);
  }
  const total = MIX_KINDS.reduce((n, k) => n + shares[k], 0);
  if (Math.abs(total - 100) > 1e-9) throw new UsageError(`${flag}: the percentages must add up to 100, got ${total}`);
  if (shares.messages === 0 && (shares.reactions > 0 || shares.edits > 0)) {
    throw new UsageError(`${flag}: reactions and edits target recent messages, so messages must be above 0`);
  }
  return shares;
}

/** `messages=80,reactions=10,…`, the kinds above 0 in MIX_KINDS order. */
export const formatMix = (shares: MixShares): string =>
  MIX_KINDS.filter((k) => shares[k] > 0)
    .map((k) => `${k}=${shares[k]}`)
    .join(",");

export const SYSTEMS = ["parley", "relay", "socketio"] as const;

export const fullPreset: BenchOptions = {
  quick: false,
  clients: 1000,
  gateways: 2,
  // The side-by-side runs where Parley keeps up on this 2-core machine (≈ 50–60 msg/s, see
  // docs/benchmark.md); the sweep goes on to the targets (500 and 2,000 msg/s) and stops at the knee.
  rate: 50,
  durationS: 10,
  rounds: 2,
  sweepRates: [25, 50, 100, 250, 500, 1000, 2000],
  sweepDurationS: 6,
  drainMs: 5_000,
  settleMaxMs: 20_000,
  bodyBytes: 100,
  settleMs: 3_000,
  // One gateway heartbeat period (its default), so every connection refresh falls inside the window. A gateway
  // refreshes all its records at once, so a shorter window (even in --quick) catches a whole sweep or none of it,
  // and the cost per connection-month would be off by that much.
  idleMs: 25_000,
  warmupS: 5,
  syncMessages: 1000,
  runnerConcurrency: 8,
  runnerBatchSize: 10,
  profile: false,
  heap: false,
  systems: [...SYSTEMS],
  outDir: path.join(repoRoot, "bench/results"),
  seed: 7,
  mix: null,
};

/** `--quick`: 100 clients and short phases, enough to check that everything runs. */
export const quickPreset: BenchOptions = {
  ...fullPreset,
  quick: true,
  clients: 100,
  rate: 100,
  durationS: 3,
  rounds: 1,
  sweepRates: [100, 200],
  sweepDurationS: 3,
  drainMs: 2_000,
  settleMaxMs: 4_000,
  settleMs: 500,
  warmupS: 0,
  syncMessages: 50,
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
    mix: {
      type: "string",
      value: "kind=%,…",
      description:
        "Parley mixed workload after the side-by-side phases: percent per kind of messages, reactions, edits, " +
        "receipts (adding up to 100), e.g. messages=80,reactions=10,edits=5,receipts=5; one phase per kind, " +
        "then the mix, at --rate for --duration each",
      defaultText: "off",
      parse: parseMix,
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

/** The preset `--quick` picks, with each option given on the command line in place of its value. */
export function parseBenchOptions(argv: readonly string[]): BenchOptions {
  const { values: v } = parseCli(benchCli, argv);
  const p = v.quick ? quickPreset : fullPreset;
  const systems = [...(v.systems ?? p.systems)];
  if (v.mix && !systems.includes("parley")) throw new UsageError("--mix needs parley in --systems");
  return {
    ...p,
    systems,
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
    mix: v.mix ?? p.mix,
  };
}
