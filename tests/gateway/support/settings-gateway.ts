/**
 * Starts and stops gateway processes through gateway-with-settings.ts against a running local stack: for
 * scenarios that need settings no env var reaches, or env (secrets, origins) other than the stack's.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { env } from "../../../runtime/contracts";
import type { GatewaySettings } from "../../../runtime/gateway/context";
import { freePort } from "../../../runtime/local/emulators";
import { repoRoot } from "../../../runtime/local/processes";
import type { LocalStack } from "../../../runtime/local/stack";
import { api } from "../../support/clients";
import { timing, waitUntil } from "../../support/timing";

export interface TestGateway {
  readonly id: string;
  readonly url: string;
  readonly child: ChildProcess;
  /** The last 20,000 characters of stdout and stderr. */
  output: string;
}

export interface TestGatewayOptions {
  readonly settings?: Partial<GatewaySettings>;
  /** Public port; default a free one. */
  readonly port?: number;
  /** Over the stack's gateway env; the allowed origins default to the gateway's own URL. */
  readonly env?: Record<string, string>;
}

/** Resolves once /healthz answers; a gateway that exits first fails with its output. */
export async function startTestGateway(stack: LocalStack, id: string, opts: TestGatewayOptions = {}) {
  const port = opts.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "tests/gateway/support/gateway-with-settings.ts", JSON.stringify(opts.settings ?? {})],
    {
      cwd: repoRoot,
      env: {
        ...process.env,
        NODE_NO_WARNINGS: "1",
        ...stack.gatewayBaseEnv,
        [env.port]: String(port),
        [env.internalPort]: "0",
        [env.gatewayId]: id,
        [env.allowedOrigins]: url,
        ...opts.env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const g: TestGateway = { id, url, child, output: "" };
  const keep = (d: Buffer) => (g.output = (g.output + d.toString()).slice(-20_000));
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  try {
    await waitUntil(
      async () => {
        if (child.exitCode !== null) throw new Error(`${id} exited during startup:\n${g.output}`);
        return api(url, "GET", "/healthz").then(
          (r) => r.status === 200,
          () => false,
        );
      },
      { timeoutMs: timing.ms(30_000) },
    );
  } catch (err) {
    child.kill("SIGKILL");
    throw err;
  }
  return g;
}

/** SIGTERM, then SIGKILL after 10 s. */
export async function stopTestGateway(g: TestGateway): Promise<void> {
  if (g.child.exitCode !== null || g.child.signalCode !== null) return;
  const exited = once(g.child, "exit");
  g.child.kill("SIGTERM");
  const timer = setTimeout(() => g.child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}
