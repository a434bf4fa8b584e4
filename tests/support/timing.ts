/**
 * Every time budget the suites wait with comes from here. Waits are on conditions (the budget is only how long
 * to keep trying before failing), so generous budgets cost nothing when things are quick. The budgets are sized
 * for this 2-core machine with both cores busy; `PARLEY_TEST_LOAD_FACTOR` (default 1) scales them all for a
 * slower one. Framework-free so the chaos runner (tsx) and jest share it.
 */

function loadFactor(): number {
  const raw = process.env.PARLEY_TEST_LOAD_FACTOR;
  if (raw === undefined || raw === "") return 1;
  const f = Number(raw);
  if (!Number.isFinite(f) || f < 1) throw new Error(`PARLEY_TEST_LOAD_FACTOR must be a number >= 1, got "${raw}"`);
  return f;
}

export const LOAD_FACTOR = loadFactor();

export const timing = {
  /** A budget of `base` ms on a quiet machine, scaled by the load factor. */
  ms: (base: number): number => Math.round(base * LOAD_FACTOR),
};

/** The one sleep of the suites (the runtime's abortable one is runtime/gateway/util.ts). */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface WaitOptions {
  /** Default 15 s, scaled by the load factor. */
  readonly timeoutMs?: number;
  /** Default 50 ms. */
  readonly intervalMs?: number;
  /** Names the condition in the failure; a function is called then, so it can show the last value read. */
  readonly what?: string | (() => string);
}

/**
 * The one poller of the suites: calls `check` every `intervalMs` until it returns a truthy value (which is
 * returned) or `timeoutMs` passes; then fails naming `what`. An error `check` throws fails the wait at once.
 */
export async function waitUntil<T>(
  check: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  opts: WaitOptions = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? timing.ms(15_000);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) {
      const what = typeof opts.what === "function" ? opts.what() : (opts.what ?? "condition");
      throw new Error(`${what} not met within ${timeoutMs} ms`);
    }
    await sleep(opts.intervalMs ?? 50);
  }
}

/** `waitUntil` resolving with how long the condition took to hold: the recovery times the chaos table reports. */
export async function timeUntil(what: string, predicate: () => Promise<boolean>, timeoutMs = 60_000): Promise<number> {
  const start = Date.now();
  await waitUntil(predicate, { what, timeoutMs, intervalMs: 100 });
  return Date.now() - start;
}
