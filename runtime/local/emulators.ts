/**
 * The embedded default: fauxqs (SQS) and dynalite (DynamoDB) as child processes speaking the real wire
 * protocols. Separate processes so tests can stop and restart them and the benchmark can meter them.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdirSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";

const root = path.resolve(__dirname, "../..");

export interface EmulatorOptions {
  /** LevelDB folder for dynalite; omit for in-memory tables. fauxqs is always in memory. */
  readonly dataDir?: string;
  readonly sqsPort?: number;
  readonly dynamodbPort?: number;
}

export interface Emulator {
  readonly name: "fauxqs" | "dynalite";
  readonly endpoint: string;
  readonly process: ChildProcess;
  stop(): Promise<void>;
  /** Restart on the same port (and data folder), e.g. after a chaos test stopped it. */
  restart(): Promise<void>;
}

export interface Emulators {
  readonly sqs: Emulator;
  readonly dynamodb: Emulator;
  stop(): Promise<void>;
}

async function canListen(port: number): Promise<boolean> {
  const srv = createServer();
  return new Promise((resolve) => {
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

/**
 * A port to give a child process. Picked below Linux's ephemeral range (32768+), where the kernel also takes
 * the local ports of outgoing connections and port-0 binds of parallel test workers: a port chosen there can
 * be taken by someone else before the child binds it.
 */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (await canListen(port)) return port;
  }
  const srv = createServer();
  srv.listen(0, "127.0.0.1");
  await once(srv, "listening");
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

export async function waitForHttp(url: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await fetch(url, { signal: AbortSignal.timeout(1000) });
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms: ${String(err)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 3_000);
  await exited;
  clearTimeout(timer);
}

function startEmulator(
  name: Emulator["name"],
  port: number,
  argv: string[],
  env: NodeJS.ProcessEnv,
): Promise<Emulator> {
  const endpoint = `http://127.0.0.1:${port}`;
  let child: ChildProcess;
  const launch = async () => {
    child = spawn(process.execPath, argv, {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    const failed = once(child, "exit").then(() => {
      throw new Error(`${name} exited during startup: ${stderr}`);
    });
    await Promise.race([waitForHttp(endpoint), failed]);
    failed.catch(() => undefined);
  };
  const emulator: Emulator = {
    name,
    endpoint,
    get process() {
      return child;
    },
    stop: () => stopChild(child),
    restart: async () => {
      await stopChild(child);
      await launch();
    },
  };
  return launch().then(() => emulator);
}

export async function startEmulators(opts: EmulatorOptions = {}): Promise<Emulators> {
  const sqsPort = opts.sqsPort ?? (await freePort());
  const dynamodbPort = opts.dynamodbPort ?? (await freePort());
  const dynaliteArgs = [
    require.resolve("dynalite/cli.js"),
    "--host",
    "127.0.0.1",
    "--port",
    String(dynamodbPort),
    "--createTableMs",
    "0",
    "--deleteTableMs",
    "0",
    "--updateTableMs",
    "0",
  ];
  if (opts.dataDir) {
    mkdirSync(opts.dataDir, { recursive: true });
    dynaliteArgs.push("--path", opts.dataDir);
  }
  // fauxqs exports only its ESM entry; its CLI sits beside it.
  const fauxqsCli = path.join(root, "node_modules/fauxqs/dist/cli.js");
  const [sqs, dynamodb] = await Promise.all([
    startEmulator("fauxqs", sqsPort, [fauxqsCli], {
      FAUXQS_PORT: String(sqsPort),
      FAUXQS_LOGGER: "false",
      FAUXQS_HOST: "localhost",
    }),
    startEmulator("dynalite", dynamodbPort, dynaliteArgs, {}),
  ]);
  return {
    sqs,
    dynamodb,
    stop: async () => {
      await Promise.all([sqs.stop(), dynamodb.stop()]);
    },
  };
}
