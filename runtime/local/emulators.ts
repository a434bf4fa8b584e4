/**
 * The embedded default: fauxqs (SQS) and dynalite (DynamoDB) as child processes speaking the real wire
 * protocols. Separate processes so tests can stop and restart them and the benchmark can meter them.
 * `PARLEY_LOCAL_DYNAMODB=dynamodb-local` (or the `dynamodb` option) runs AWS's DynamoDB Local (Java) instead of
 * dynalite: stricter and closer to AWS (1 MB pages in UTF-8 bytes, transactions), slower to start.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdirSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { LOCAL_REGION, localClientConfig, loadLocalDynamodb, type AwsConfig, type LocalDynamodb } from "../contracts";
import { childNodeArgs, childSpawnOptions } from "./processes";

const root = path.resolve(__dirname, "../..");

export interface EmulatorOptions {
  /** Folder for DynamoDB's data (dynalite's LevelDB, DynamoDB Local's SQLite file); omit for in-memory tables. fauxqs is always in memory. */
  readonly dataDir?: string;
  readonly sqsPort?: number;
  readonly dynamodbPort?: number;
  /** Which DynamoDB emulator; default from PARLEY_LOCAL_DYNAMODB, else dynalite. */
  readonly dynamodb?: LocalDynamodb;
}

export interface Emulator {
  readonly name: "fauxqs" | LocalDynamodb;
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

/** Where the SDK clients (runtime/aws/clients.ts) of a local process find these emulators. */
export function emulatorAws(emulators: Emulators): AwsConfig {
  return { region: LOCAL_REGION, sqsEndpoint: emulators.sqs.endpoint, dynamodbEndpoint: emulators.dynamodb.endpoint };
}

export async function canListen(port: number, host = "127.0.0.1"): Promise<boolean> {
  const srv = createServer();
  return new Promise((resolve) => {
    srv.once("error", () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
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
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 3_000);
  await exited;
  clearTimeout(timer);
}

/** Answers once DynamoDB Local serves requests (its HTTP port opens before its database is ready). */
async function waitForListTables(endpoint: string, timeoutMs: number): Promise<void> {
  const client = new DynamoDBClient({ ...localClientConfig(endpoint), maxAttempts: 1 });
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }), { abortSignal: AbortSignal.timeout(2_000) });
        return;
      } catch (err) {
        if (Date.now() > deadline) {
          throw new Error(
            `DynamoDB Local at ${endpoint} did not answer ListTables within ${timeoutMs} ms: ${String(err)}`,
          );
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } finally {
    client.destroy();
  }
}

interface Launch {
  readonly command: string;
  readonly argv: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly ready: (endpoint: string) => Promise<void>;
}

function startEmulator(name: Emulator["name"], port: number, how: Launch): Promise<Emulator> {
  const endpoint = `http://127.0.0.1:${port}`;
  let child: ChildProcess;
  const launch = async () => {
    // Node emulators get the orphan guard; all run in their own process group (see childSpawnOptions).
    const argv = how.command === process.execPath ? [...childNodeArgs, ...how.argv] : how.argv;
    child = spawn(how.command, argv, {
      ...childSpawnOptions,
      cwd: how.cwd ?? root,
      env: { ...process.env, ...how.env },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    const failed = new Promise<never>((_, reject) => {
      child.once("error", (err) => reject(new Error(`${name} did not start: ${err.message}`)));
      child.once("exit", () => reject(new Error(`${name} exited during startup: ${stderr}`)));
    });
    failed.catch(() => undefined);
    try {
      await Promise.race([how.ready(endpoint), failed]);
    } catch (err) {
      await stopChild(child);
      throw err;
    }
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

const javaHint = "DynamoDB Local needs Java 17: apt-get install -y openjdk-17-jre-headless";

/** Fails with one clear line when `java` is missing or older than 17. */
function checkJava(): void {
  const out = spawnSync("java", ["-version"], { encoding: "utf8" });
  if (out.error || out.status !== 0) throw new Error(javaHint);
  const major = Number(/version "(\d+)/.exec(out.stderr)?.[1]);
  if (!(major >= 17)) throw new Error(`${javaHint} (found: ${out.stderr.split("\n")[0]})`);
}

/** DynamoDBLocal.jar and its native libraries, as the npm package amplify-dynamodb-simulator ships them. */
export function dynamodbLocalHome(): string {
  let pkg: string;
  try {
    pkg = require.resolve("amplify-dynamodb-simulator/package.json");
  } catch {
    throw new Error(
      "DynamoDB Local is not installed: it is opt-in (its licence is Amazon's own, README); npm install --no-save amplify-dynamodb-simulator",
    );
  }
  const home = path.join(path.dirname(pkg), "emulator");
  if (!existsSync(path.join(home, "DynamoDBLocal.jar"))) throw new Error(`no DynamoDBLocal.jar in ${home}`);
  return home;
}

function dynaliteLaunch(port: number, dataDir: string | undefined): Launch {
  const argv = [
    require.resolve("dynalite/cli.js"),
    "--host",
    "127.0.0.1",
    "--port",
    String(port),
    "--createTableMs",
    "0",
    "--deleteTableMs",
    "0",
    "--updateTableMs",
    "0",
  ];
  if (dataDir) argv.push("--path", dataDir);
  return { command: process.execPath, argv, ready: (endpoint) => waitForHttp(endpoint) };
}

function dynamodbLocalLaunch(port: number, dataDir: string | undefined): Launch {
  checkJava();
  const home = dynamodbLocalHome();
  const argv = [
    // A short-lived test server: the client compiler only and a small serial heap start fastest on 2 cores.
    "-XX:TieredStopAtLevel=1",
    "-XX:+UseSerialGC",
    "-Xmx512m",
    `-Djava.library.path=${path.join(home, "DynamoDBLocal_lib")}`,
    "-jar",
    path.join(home, "DynamoDBLocal.jar"),
    "-port",
    String(port),
    // One database whatever the credentials and region of a client (like dynalite); nothing sent out.
    "-sharedDb",
    "-disableTelemetry",
    ...(dataDir ? ["-dbPath", dataDir] : ["-inMemory"]),
  ];
  return { command: "java", argv, cwd: home, ready: (endpoint) => waitForListTables(endpoint, 60_000) };
}

/** The DynamoDB emulator to run: the option when given, else PARLEY_LOCAL_DYNAMODB (read only here), else dynalite. */
export function localDynamodbBackend(choice?: LocalDynamodb): LocalDynamodb {
  return choice ?? loadLocalDynamodb(process.env);
}

export async function startEmulators(opts: EmulatorOptions = {}): Promise<Emulators> {
  const backend = localDynamodbBackend(opts.dynamodb);
  const sqsPort = opts.sqsPort ?? (await freePort());
  const dynamodbPort = opts.dynamodbPort ?? (await freePort());
  if (opts.dataDir) mkdirSync(opts.dataDir, { recursive: true });
  const dynamodbLaunch =
    backend === "dynamodb-local"
      ? dynamodbLocalLaunch(dynamodbPort, opts.dataDir)
      : dynaliteLaunch(dynamodbPort, opts.dataDir);
  // fauxqs's CLI, with SQS's long-poll wake-up (one waiting receive per message, not all of them).
  const fauxqsCli = path.join(root, "runtime/local/fauxqs-aws-polling.mjs");
  const started = await Promise.allSettled([
    startEmulator("fauxqs", sqsPort, {
      command: process.execPath,
      argv: [fauxqsCli],
      env: { FAUXQS_PORT: String(sqsPort), FAUXQS_LOGGER: "false", FAUXQS_HOST: "localhost" },
      ready: (endpoint) => waitForHttp(endpoint),
    }),
    startEmulator(backend, dynamodbPort, dynamodbLaunch),
  ]);
  const [sqs, dynamodb] = started;
  if (sqs.status === "rejected" || dynamodb.status === "rejected") {
    await Promise.all(started.map((r) => (r.status === "fulfilled" ? r.value.stop() : undefined)));
    throw sqs.status === "rejected" ? sqs.reason : (dynamodb as PromiseRejectedResult).reason;
  }
  return {
    sqs: sqs.value,
    dynamodb: dynamodb.value,
    stop: async () => {
      await Promise.all([sqs.value.stop(), dynamodb.value.stop()]);
    },
  };
}
