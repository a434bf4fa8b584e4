/**
 * Starting a baseline server (relay.ts, socketio.ts) in its own process with the metering preload, and stopping
 * it: the port comes from its "listening <port>" line.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { repoRoot } from "../../runtime/local/processes";
import { PRELOAD, type MeteredProcess } from "../metrics";

export interface Baseline {
  readonly url: string;
  readonly process: MeteredProcess;
  stop(): Promise<void>;
}

/** A baseline server in its own process, so its CPU and RSS are its own. */
export async function startBaseline(name: string, entry: string): Promise<Baseline> {
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
