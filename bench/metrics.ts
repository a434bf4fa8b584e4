/** Per-process CPU and memory from /proc, so every process of a system is metered the same way. */
import { readFileSync } from "node:fs";
import path from "node:path";
import { sleep } from "../runtime/gateway/util";
import { repoRoot } from "../runtime/local/processes";

/** GC on SIGWINCH and the SIGUSR2 profiler, in every metered process (`node --import PRELOAD`). */
export const PRELOAD = path.join(repoRoot, "bench/preload.mjs");

/** Linux reports utime/stime in clock ticks; USER_HZ is 100 on every mainstream distribution. */
const CLOCK_TICKS = 100;

/** User + system CPU seconds a process has used so far (0 if it is gone). */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name is in parentheses and may contain spaces: fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/** Resident set size in bytes (0 if the process is gone). */
export function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export interface MeteredProcess {
  readonly name: string;
  readonly pid: number;
  /** What the process printed so far (for the preload's `bench-memory` lines). */
  readonly output?: () => string;
}

export interface HeapReading {
  readonly heapUsed: number;
  readonly external: number;
  readonly arrayBuffers: number;
}

/** The latest `bench-memory` line the preload printed after a forced GC, if any. */
export function lastHeapReading(p: MeteredProcess): HeapReading | undefined {
  const text = p.output?.() ?? "";
  const i = text.lastIndexOf("bench-memory ");
  if (i < 0) return undefined;
  const end = text.indexOf("\n", i);
  const line = text.slice(i + "bench-memory ".length, end < 0 ? undefined : end);
  try {
    return JSON.parse(line) as HeapReading;
  } catch {
    return undefined;
  }
}

export type CpuSnapshot = Record<string, number>;

export function cpuSnapshot(procs: readonly MeteredProcess[]): CpuSnapshot {
  const out: CpuSnapshot = { harness: process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6 };
  for (const p of procs) out[p.name] = cpuSeconds(p.pid);
  return out;
}

export function cpuDelta(before: CpuSnapshot, after: CpuSnapshot): CpuSnapshot {
  const out: CpuSnapshot = {};
  for (const k of Object.keys(after)) out[k] = Math.max(0, after[k]! - (before[k] ?? 0));
  return out;
}

export const sumRss = (procs: readonly MeteredProcess[]): number => procs.reduce((n, p) => n + rssBytes(p.pid), 0);

export type CallCounts = Record<string, Record<string, number>>;

/** Per process: calls by operation, and what they are billed on (the preload's `billing` descriptors). */
export interface CounterReading {
  readonly calls: CallCounts;
  readonly billing: CallCounts;
}

/** The latest `bench-calls` line of each process (the preload prints running totals on SIGTTOU). */
export async function callCounts(procs: readonly MeteredProcess[]): Promise<CounterReading> {
  const withOutput = procs.filter((p) => p.output);
  for (const p of withOutput) {
    try {
      process.kill(p.pid, "SIGTTOU");
    } catch {
      // gone
    }
  }
  await sleep(200);
  const out: CounterReading = { calls: {}, billing: {} };
  for (const p of withOutput) {
    const text = p.output!();
    const i = text.lastIndexOf("bench-calls ");
    if (i < 0) continue;
    const end = text.indexOf("\n", i);
    try {
      const line = JSON.parse(text.slice(i + "bench-calls ".length, end < 0 ? undefined : end)) as {
        calls: Record<string, number>;
        billing?: Record<string, number>;
      };
      out.calls[p.name] = line.calls;
      out.billing[p.name] = line.billing ?? {};
    } catch {
      // a torn line: skip this reading
    }
  }
  return out;
}

export function callDelta(before: CallCounts, after: CallCounts): CallCounts {
  const out: CallCounts = {};
  for (const [proc, calls] of Object.entries(after)) {
    out[proc] = {};
    for (const [op, n] of Object.entries(calls)) {
      const d = n - (before[proc]?.[op] ?? 0);
      if (d > 0) out[proc][op] = d;
    }
  }
  return out;
}

export function counterDelta(before: CounterReading, after: CounterReading): CounterReading {
  return { calls: callDelta(before.calls, after.calls), billing: callDelta(before.billing, after.billing) };
}

/**
 * `counts` minus what the same processes do in the background over `seconds`, at the rate `background` counted
 * over its own `backgroundSeconds` (never below 0; an operation that drops to 0 is left out).
 */
export function netOfBackground(
  counts: CallCounts,
  background: CallCounts | undefined,
  backgroundSeconds: number,
  seconds: number,
): CallCounts {
  const out: CallCounts = {};
  for (const [proc, ops] of Object.entries(counts)) {
    out[proc] = {};
    for (const [op, n] of Object.entries(ops)) {
      const bg = backgroundSeconds > 0 ? ((background?.[proc]?.[op] ?? 0) * seconds) / backgroundSeconds : 0;
      const v = Math.max(0, n - bg);
      if (v > 0) out[proc][op] = v;
    }
  }
  return out;
}

/** Meters `procs` from now on: `read()` answers the CPU seconds and calls they used since. */
export async function startMeter(
  procs: readonly MeteredProcess[],
): Promise<{ read(): Promise<{ cpu: CpuSnapshot } & CounterReading> }> {
  const calls = await callCounts(procs);
  const cpu = cpuSnapshot(procs);
  return {
    read: async () => {
      const used = cpuDelta(cpu, cpuSnapshot(procs));
      return { cpu: used, ...counterDelta(calls, await callCounts(procs)) };
    },
  };
}

/** What bench/preload.mjs counts a request without an AWS operation as: gateway → gateway (peer) HTTP. */
export const PEER_HTTP = "http";

/** AWS calls in `calls` (every process, every operation but peer HTTP, which is counted beside them, not billed). */
export function sumAwsCalls(calls: Readonly<Record<string, Readonly<Record<string, number>>>>): number {
  return Object.values(calls).reduce((n, ops) => n + sumPeerless(ops), 0);
}

/** Peer HTTP requests in `calls`, every process. */
export function sumPeerHttp(calls: Readonly<Record<string, Readonly<Record<string, number>>>>): number {
  return Object.values(calls).reduce((n, ops) => n + (ops[PEER_HTTP] ?? 0), 0);
}

/** One process's AWS calls. */
export function sumPeerless(ops: Readonly<Record<string, number>>): number {
  return Object.entries(ops).reduce((a, [op, v]) => (op === PEER_HTTP ? a : a + v), 0);
}
