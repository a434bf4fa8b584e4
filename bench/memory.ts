/**
 * Memory per connection: a system's clients connect in two halves, and the second half's RSS (after a forced GC)
 * and, with `--heap`, its heap growth by constructor are divided by its connections.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { log, sleep } from "./clock";
import { heapGrowth } from "./heap";
import { combineClients, nowMs, type ClientRange, type SystemClients } from "./load";
import { lastHeapReading, sumRss, type MeteredProcess } from "./metrics";
import type { SystemUnderTest } from "./system";

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

/**
 * Connects one system's clients in two halves and takes the RSS growth of the second half per connection, each
 * reading after a settle period and a forced GC: the first half pays for warm-up (JIT, pools, caches), which is
 * not a per-connection cost.
 */
export async function connectMeasured(
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
  sut.connectedAtMs = nowMs();
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
