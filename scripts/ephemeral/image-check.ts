/**
 * The gateway image check CI runs before any stack exists: the built image runs the way the Fargate task
 * runs it (read-only root filesystem, uid 1000, a scratch /tmp, the task's env) against the local emulators,
 * and must answer /healthz (with this run's nonce), serve the web client, and exit 0 on SIGTERM.
 * Docker, the emulators and HTTP are injected, so tests drive every step without a Docker engine.
 */
import { randomBytes } from "node:crypto";
import { env } from "../../runtime/contracts";

export const imageCheckSteps = ["backends", "start", "healthz", "web", "shutdown"] as const;
export type ImageCheckStep = (typeof imageCheckSteps)[number];

export class ImageCheckError extends Error {
  constructor(
    readonly step: ImageCheckStep,
    message: string,
  ) {
    super(`step ${step}: ${message}`);
    this.name = "ImageCheckError";
  }
}

export interface ContainerSettings {
  /** `uid:gid` the task definition runs the container as. */
  readonly user: string;
  /** Where the image keeps the built web client (the task's PARLEY_WEB_DIR). */
  readonly webDir: string;
}

export interface RunningContainer {
  /** Resolves with the container's exit code. */
  readonly exited: Promise<number>;
  /** `docker stop`: SIGTERM, then SIGKILL after the grace period. */
  stop(): Promise<void>;
}

export interface ImageCheckDeps {
  /** Emulators with the tables and queues provisioned: the env that points the gateway at them. */
  startBackends(): Promise<{ readonly env: Record<string, string>; stop(): Promise<void> }>;
  /** Writes the env to a file only this user can read (secrets never reach a command line) and returns its path. */
  writeEnvFile(values: Record<string, string>): Promise<{ readonly path: string; remove(): Promise<void> }>;
  runContainer(dockerArgs: readonly string[]): RunningContainer;
  freePort(): Promise<number>;
  fetch(url: string, init?: { signal?: AbortSignal }): Promise<{ status: number; text(): Promise<string> }>;
  log(line: string): void;
  sleep(ms: number): Promise<void>;
}

export interface ImageCheckOptions {
  readonly image: string;
  readonly container: ContainerSettings;
  /** How long /healthz may take to answer after `docker run`. */
  readonly readyTimeoutMs?: number;
  /** How long the container may take to exit after SIGTERM. */
  readonly stopTimeoutMs?: number;
}

/** `docker run` as the Fargate task runs the image: nothing writable but /tmp, not root, no privileges. */
export function dockerRunArgs(a: {
  image: string;
  envFile: string;
  name: string;
  container: ContainerSettings;
}): string[] {
  return [
    "run",
    "--rm",
    "--name",
    a.name,
    "--read-only",
    "--user",
    a.container.user,
    "--tmpfs",
    "/tmp:rw,noexec,nosuid,size=64m",
    "--cap-drop",
    "ALL",
    "--security-opt",
    "no-new-privileges",
    // The emulators listen on the runner's loopback; so does the gateway, on ports picked free.
    "--network",
    "host",
    "--env-file",
    a.envFile,
    a.image,
  ];
}

/** The container's env: the emulators' endpoints and names plus what the task definition sets. */
export function containerEnv(a: {
  backends: Record<string, string>;
  port: number;
  internalPort: number;
  webDir: string;
  nonce: string;
}): Record<string, string> {
  const origin = `http://127.0.0.1:${a.port}`;
  return {
    ...a.backends,
    [env.port]: String(a.port),
    [env.internalPort]: String(a.internalPort),
    [env.bindHost]: "127.0.0.1",
    [env.advertiseHost]: "127.0.0.1",
    [env.allowedOrigins]: origin,
    [env.webDir]: a.webDir,
    [env.logLevel]: "info",
    [env.healthNonce]: a.nonce,
    // Generated per run, like the stack's Secrets Manager values; only the env file holds them.
    [env.jwtSecret]: randomBytes(32).toString("hex"),
    [env.internalSecret]: randomBytes(32).toString("hex"),
  };
}

/** Runs the check; resolves when every step passed, rejects with the first failing step. */
export async function checkImage(o: ImageCheckOptions, deps: ImageCheckDeps): Promise<void> {
  const readyTimeoutMs = o.readyTimeoutMs ?? 60_000;
  const stopTimeoutMs = o.stopTimeoutMs ?? 20_000;
  const step = async <T>(name: ImageCheckStep, run: () => Promise<T>): Promise<T> => {
    deps.log(`${name}…`);
    try {
      return await run();
    } catch (err) {
      throw err instanceof ImageCheckError ? err : new ImageCheckError(name, errorText(err));
    }
  };

  const backends = await step("backends", () => deps.startBackends());
  let envFile: { path: string; remove(): Promise<void> } | undefined;
  let container: RunningContainer | undefined;
  let exitCode: number | undefined;
  try {
    const [port, internalPort] = [await deps.freePort(), await deps.freePort()];
    const nonce = randomBytes(8).toString("hex");
    const base = `http://127.0.0.1:${port}`;
    container = await step("start", async () => {
      envFile = await deps.writeEnvFile(
        containerEnv({ backends: backends.env, port, internalPort, webDir: o.container.webDir, nonce }),
      );
      const name = `parley-image-check-${nonce}`;
      return deps.runContainer(dockerRunArgs({ image: o.image, envFile: envFile.path, name, container: o.container }));
    });
    const running = container;
    const early = running.exited.then((code) => {
      exitCode = code;
      return code;
    });

    await step("healthz", async () => {
      const deadline = Date.now() + readyTimeoutMs;
      let last = "no answer yet";
      for (;;) {
        if (exitCode !== undefined) throw new Error(`the container exited with code ${exitCode} before answering`);
        try {
          const res = await deps.fetch(`${base}/healthz`, { signal: AbortSignal.timeout(2_000) });
          const body = await res.text();
          if (res.status === 200 && JSON.parse(body).ok === true && JSON.parse(body).nonce === nonce) return;
          last = `HTTP ${res.status}: ${body.slice(0, 200)}`;
        } catch (err) {
          last = errorText(err);
        }
        if (Date.now() >= deadline) throw new Error(`GET /healthz did not answer 200 with this run's nonce: ${last}`);
        await deps.sleep(500);
      }
    });

    await step("web", async () => {
      const res = await deps.fetch(`${base}/`, { signal: AbortSignal.timeout(5_000) });
      const body = await res.text();
      if (res.status !== 200 || !/<html/i.test(body)) {
        throw new Error(`GET / answered HTTP ${res.status} without the web client (${body.slice(0, 120)})`);
      }
    });

    await step("shutdown", async () => {
      await running.stop();
      const code = await Promise.race([early, deps.sleep(stopTimeoutMs).then(() => undefined)]);
      if (code === undefined) throw new Error(`the container did not exit ${stopTimeoutMs} ms after SIGTERM`);
      if (code !== 0) throw new Error(`the container exited with code ${code} after SIGTERM, expected 0`);
    });
  } finally {
    if (container && exitCode === undefined) await container.stop().catch(() => undefined);
    await envFile?.remove().catch(() => undefined);
    await backends.stop().catch(() => undefined);
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message || err.name : String(err);
}
