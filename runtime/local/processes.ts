/** Child processes of the local stack, with their output kept for tests and optionally mirrored. */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import path from "node:path";

export const repoRoot = path.resolve(__dirname, "../..");

/**
 * How the local stack starts a Node child: preloaded with the orphan guard, in its own process group so that
 * Ctrl-C in a terminal reaches only the launcher (which stops children in order), never the children at once.
 */
export const childNodeArgs: readonly string[] = ["--require", path.join(__dirname, "exit-with-parent.cjs")];
export const childSpawnOptions = { detached: true } as const;

export interface ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** Everything the process printed (stdout + stderr), for assertions such as "no token in the logs". */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** Simulates a crash. */
  kill(): Promise<void>;
}

export interface SpawnOptions {
  readonly env: Record<string, string>;
  /** Mirror output to this stream, each line prefixed with the process name. */
  readonly mirror?: NodeJS.WritableStream;
}

/** Runs a TypeScript entry point with node + tsx's loader: one process, so signals reach the code itself. */
export function spawnTs(name: string, entry: string, opts: SpawnOptions): ManagedProcess {
  const child = spawn(process.execPath, [...childNodeArgs, "--import", "tsx", entry], {
    ...childSpawnOptions,
    cwd: repoRoot,
    env: { ...process.env, NODE_NO_WARNINGS: "1", ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const chunks: string[] = [];
  let size = 0;
  const collect = (d: Buffer) => {
    const s = d.toString();
    chunks.push(s);
    size += s.length;
    // Keep the last ~4 MB.
    while (size > 4_000_000 && chunks.length > 1) size -= chunks.shift()!.length;
    if (opts.mirror) for (const line of s.split("\n")) if (line) opts.mirror.write(`[${name}] ${line}\n`);
  };
  child.stdout!.on("data", collect);
  child.stderr!.on("data", collect);
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  const stop = async (graceMs = 5_000) => {
    if (exited()) return;
    const done = once(child, "exit");
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    await done;
    clearTimeout(timer);
  };
  const kill = async () => {
    if (exited()) return;
    const done = once(child, "exit");
    child.kill("SIGKILL");
    await done;
  };
  return { name, child, output: () => chunks.join(""), stop, kill };
}

/** Resolves when `predicate` matches the process output; rejects if the process exits first. */
export async function waitForOutput(p: ManagedProcess, predicate: RegExp, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate.test(p.output())) {
    if (p.child.exitCode !== null || p.child.signalCode !== null) {
      throw new Error(
        `${p.name} exited (${p.child.exitCode ?? p.child.signalCode}) before ready:\n${p.output().slice(-3000)}`,
      );
    }
    if (Date.now() > deadline)
      throw new Error(`${p.name} not ready within ${timeoutMs} ms:\n${p.output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Polls `url` until it answers 200 with the nonce this launch gave the gateway, so a port some other process
 * grabbed first (even another Parley) is never mistaken for ours; fails early if the process exits.
 */
export async function waitForHealthy(p: ManagedProcess, url: string, timeoutMs: number, nonce: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (p.child.exitCode !== null || p.child.signalCode !== null) {
      throw new Error(
        `${p.name} exited (${p.child.exitCode ?? p.child.signalCode}) during startup:\n${p.output().slice(-3000)}`,
      );
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      const body = res.ok ? ((await res.json()) as { nonce?: string }) : undefined;
      if (body?.nonce === nonce) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline)
      throw new Error(`${p.name} not healthy within ${timeoutMs} ms:\n${p.output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
