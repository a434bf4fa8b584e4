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

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Polls `check` every `intervalMs` until it returns a truthy value (which is returned) or `timeoutMs` passes;
 * then fails with `what` and the last value seen.
 */
export async function waitUntil<T>(
  check: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? timing.ms(15_000);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`${opts.what ?? "condition"} not met within ${timeoutMs} ms`);
    await sleep(opts.intervalMs ?? 25);
  }
}
