/**
 * The ephemeral-stack lifecycle, independent of the Automation API: open the stack, configure it,
 * preview or deploy + smoke-test it, and always tear it down (unless --keep), under an overall
 * deadline. Returns the exit code instead of exiting, so tests can drive every path.
 */
import type { EphemeralArgs } from "./args";
import { ephemeralConfig } from "./config";
import { stackNameProblem } from "./names";
import type { EngineOptions, EphemeralDeps, OpenedStack } from "./types";

/**
 * Distinct per phase so CI can tell a broken program (preview/up) from a broken app (smoke) from a
 * leak (destroy), and a program whose second preview after `up` still shows changes (idempotency). 7 wins over
 * every other failure: it means cloud resources may be left behind.
 */
export const exitCodes = {
  ok: 0,
  internal: 1,
  usage: 2,
  setup: 3,
  preview: 4,
  up: 5,
  smoke: 6,
  destroy: 7,
  timeout: 8,
  idempotency: 9,
} as const;

export type Phase = Exclude<keyof typeof exitCodes, "ok" | "internal">;

export interface PhaseFailure {
  readonly phase: Phase;
  readonly message: string;
}

export interface EphemeralOutcome {
  readonly exitCode: number;
  readonly stackName: string;
  readonly failures: readonly PhaseFailure[];
  readonly appUrl?: string;
  /** True when destroy/remove ran and succeeded. */
  readonly tornDown: boolean;
}

class PhaseError extends Error {
  constructor(
    readonly phase: Phase,
    readonly reason: unknown,
  ) {
    super(`${phase} failed`);
  }
}

const TIMED_OUT = Symbol("timed out");
const defaults = { graceMs: 120_000, teardownTimeoutMs: 30 * 60_000, smokeReadyTimeoutMs: 5 * 60_000 };

export async function runEphemeral(args: EphemeralArgs, deps: EphemeralDeps): Promise<EphemeralOutcome> {
  const graceMs = deps.graceMs ?? defaults.graceMs;
  const teardownTimeoutMs = deps.teardownTimeoutMs ?? defaults.teardownTimeoutMs;
  const smokeReadyTimeoutMs = deps.smokeReadyTimeoutMs ?? defaults.smokeReadyTimeoutMs;
  const name = args.stackName;
  const log = (line: string) => deps.log(`[ephemeral ${name}] ${line}`);
  const failures: PhaseFailure[] = [];
  const record = (phase: Phase, reason: unknown) => {
    const failure = { phase, message: describe(reason) };
    failures.push(failure);
    log(`${phase} FAILED: ${failure.message}`);
  };
  const finish = (tornDown: boolean, appUrl?: string): EphemeralOutcome => {
    const exitCode = failures.some((f) => f.phase === "destroy")
      ? exitCodes.destroy
      : failures[0]
        ? exitCodes[failures[0].phase]
        : exitCodes.ok;
    log(
      exitCode === 0 ? "done: ok" : `done: FAILED (${failures.map((f) => f.phase).join(", ")}), exit code ${exitCode}`,
    );
    return { exitCode, stackName: name, failures, appUrl, tornDown };
  };

  // Checked here as well as in parseArgs: this function is the one that touches the stack.
  const problem = stackNameProblem(name);
  if (problem) {
    record("usage", problem);
    return finish(false);
  }

  const engine = (signal: AbortSignal): EngineOptions => ({ onOutput: deps.write, onError: deps.write, signal });
  const checks = { diff: args.diff, ...(args.policyPack ? { policyPacks: [args.policyPack] } : {}) };
  const abort = new AbortController();
  const state: { phase: Phase; opened?: OpenedStack; appUrl?: string } = { phase: "setup" };
  const inPhase = async <T>(phase: Phase, run: () => Promise<T>): Promise<T> => {
    state.phase = phase;
    log(`${phase}…`);
    try {
      return await run();
    } catch (err) {
      throw new PhaseError(phase, err);
    }
  };

  const main = (async () => {
    const { stack } = await inPhase("setup", async () => {
      const opened = await deps.openStack(name, { create: args.command !== "destroy" });
      if (opened.stack.name !== name) throw new Error(`opened stack "${opened.stack.name}" instead of "${name}"`);
      state.opened = opened;
      // destroy keeps the config the stack was deployed with (region above all).
      if (args.command !== "destroy") {
        await opened.stack.setAllConfig(ephemeralConfig({ stackName: name, region: args.region, image: args.image }));
      }
      return opened;
    });
    if (args.command === "preview") {
      await inPhase("preview", () => stack.preview({ ...engine(abort.signal), ...checks }));
    } else if (args.command === "up") {
      const { outputs } = await inPhase("up", () => stack.up({ ...engine(abort.signal), ...checks }));
      // A second preview right after up must show nothing to do: otherwise every deploy changes something.
      await inPhase("idempotency", () =>
        stack.preview({ ...engine(abort.signal), ...checks, diff: true, expectNoChanges: true }),
      );
      await inPhase("smoke", async () => {
        const appUrl = outputs.appUrl?.value;
        if (typeof appUrl !== "string" || appUrl === "") {
          throw new Error(`the stack has no appUrl output (outputs: ${Object.keys(outputs).join(", ") || "none"})`);
        }
        state.appUrl = appUrl;
        const result = await deps.runSmoke(appUrl, {
          log: (line) => log(`smoke: ${line}`),
          signal: abort.signal,
          readyTimeoutMs: smokeReadyTimeoutMs,
        });
        log(`smoke test passed against ${appUrl} in ${result.durationMs} ms`);
      });
    } else {
      await inPhase("destroy", async () => {
        await stack.destroy(engine(abort.signal));
        await stack.remove();
      });
    }
  })();

  const outcome = await raceDeadline(settle(main), args.timeoutMs);
  if (outcome === TIMED_OUT) {
    const phase = state.phase;
    // A destroy cut short leaves resources behind: report it as a destroy failure.
    record(phase === "destroy" ? "destroy" : "timeout", `timed out after ${formatMs(args.timeoutMs)} during ${phase}`);
    abort.abort(new Error(`timed out during ${phase}`));
    if ((await raceDeadline(settle(main), graceMs)) === TIMED_OUT) {
      // SIGINT did not stop it (a hung provider, a lost CLI): ask the backend to cancel the update.
      if (state.opened && phase !== "setup" && phase !== "smoke") {
        log(`${phase} still running ${formatMs(graceMs)} after SIGINT; cancelling it`);
        const cancelled = await raceDeadline(settle(state.opened.stack.cancel()), graceMs);
        if (cancelled !== undefined)
          log(`cancel failed: ${cancelled === TIMED_OUT ? "timed out" : describe(cancelled)}`);
      }
      if ((await raceDeadline(settle(main), graceMs)) === TIMED_OUT)
        log(`${phase} has not stopped; tearing down anyway`);
    }
  } else if (outcome !== undefined) {
    if (outcome instanceof PhaseError) record(outcome.phase, outcome.reason);
    else record("setup", outcome);
  }

  const opened = state.opened;
  if (!opened || args.command === "destroy")
    return finish(args.command === "destroy" && failures.length === 0, state.appUrl);
  if (args.keep) {
    log(`--keep: leaving the stack; remove it with: npm run stack:ephemeral -- destroy --name ${name}`);
    return finish(false, state.appUrl);
  }
  if (args.command === "preview" && !opened.created) {
    log("the stack existed before this preview; leaving it");
    return finish(false, state.appUrl);
  }

  const teardownAbort = new AbortController();
  const teardown = (async () => {
    if (args.command === "up") {
      log("destroy…");
      await opened.stack.destroy(engine(teardownAbort.signal));
    }
    log("remove…");
    await opened.stack.remove();
  })();
  const torn = await raceDeadline(settle(teardown), teardownTimeoutMs);
  if (torn === TIMED_OUT) teardownAbort.abort(new Error("teardown timed out"));
  if (torn !== undefined) {
    record("destroy", torn === TIMED_OUT ? `teardown timed out after ${formatMs(teardownTimeoutMs)}` : torn);
    log(`resources may remain; retry with: npm run stack:ephemeral -- destroy --name ${name}`);
    return finish(false, state.appUrl);
  }
  return finish(true, state.appUrl);
}

/** Resolves with undefined on success or the error on failure; never rejects. */
function settle(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => undefined,
    (err: unknown) => err ?? new Error("rejected without a reason"),
  );
}

async function raceDeadline<T>(p: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms);
  });
  try {
    return await Promise.race([p, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Pulumi's CommandError carries the whole CLI output; the tail holds the error, the rest was streamed. */
export function describe(reason: unknown): string {
  const text = reason instanceof Error ? reason.message || reason.name : String(reason);
  const trimmed = text.trim();
  return trimmed.length > 2000 ? `…${trimmed.slice(-2000)}` : trimmed;
}

function formatMs(ms: number): string {
  return ms >= 60_000 ? `${Math.round((ms / 60_000) * 10) / 10} min` : `${ms} ms`;
}
