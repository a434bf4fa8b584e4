/**
 * The whole system on one machine: emulators, tables and queues from the contracts, the persister runner and
 * N gateways — each a real process. `npm start` and the integration tests both use this.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { env as envNames, type AwsConfig, type LocalDynamodb, type QueueKey } from "../contracts";
import { createSqsClient } from "../aws/clients";
import { canListen, emulatorAws, freePort, localDynamodbBackend, startEmulators, type Emulators } from "./emulators";
import { spawnTs, waitForHealthy, waitForOutput, repoRoot, type ManagedProcess } from "./processes";
import { localEnv, provisionEmulators, type Provisioned } from "./provision";

export const LOCAL_PREFIX = "parley-local";

export interface LocalStackOptions {
  /** Gateways to start (default 1). */
  readonly gateways?: number;
  /** Keep DynamoDB in memory (tests) instead of under `dataDir`. */
  readonly inMemory?: boolean;
  /** Default `data/` in the repo (git-ignored). */
  readonly dataDir?: string;
  /** Public port of the first gateway; the others take the next ports. Default: free ports. */
  readonly basePort?: number;
  /** Interface the gateways listen on (default 127.0.0.1: a laptop's chat is not on the network unless asked). */
  readonly host?: string;
  /** Built web client to serve; default web/dist when it exists. */
  readonly webDir?: string;
  /** Start the persister runner (default true). */
  readonly persister?: boolean;
  /** Queue visibility overrides, e.g. 2 s so tests see retries and DLQ moves quickly. */
  readonly visibilityTimeoutSeconds?: Partial<Record<QueueKey, number>>;
  /** Extra env for every gateway (limits, heartbeat, presence TTL...). */
  readonly gatewayEnv?: Record<string, string>;
  /** Extra env for the persister runner. */
  readonly runnerEnv?: Record<string, string>;
  /** Mirror process output here (npm start uses stdout). */
  readonly mirror?: NodeJS.WritableStream;
  /** DynamoDB emulator (default: PARLEY_LOCAL_DYNAMODB, else dynalite); DynamoDB Local keeps data in `dataDir`/dynamodb-local. */
  readonly dynamodb?: LocalDynamodb;
}

export interface LocalGateway {
  readonly id: string;
  readonly url: string;
  readonly port: number;
  readonly internalPort: number;
  process: ManagedProcess;
  /** Starts it again on the same ports after a stop or kill. */
  restart(): Promise<void>;
}

export interface LocalStack {
  /** The first gateway's URL: what a person opens. */
  readonly url: string;
  readonly gateways: LocalGateway[];
  readonly emulators: Emulators;
  readonly provisioned: Provisioned;
  /** Region and emulator endpoints, for SDK clients (runtime/aws/clients.ts). */
  readonly aws: AwsConfig;
  /** Env with endpoints, table names and queue URLs (no gateway secrets). */
  readonly env: Record<string, string>;
  /** Env of the gateways (secrets included) — for tests that start extra gateways. */
  readonly gatewayBaseEnv: Record<string, string>;
  runner?: ManagedProcess;
  startRunner(): Promise<ManagedProcess>;
  addGateway(): Promise<LocalGateway>;
  stop(): Promise<void>;
}

interface Secrets {
  jwtSecret: string;
  internalSecret: string;
}

/** Persisted with the data so tokens stay valid across restarts of `npm start`. */
function loadSecrets(dataDir: string | undefined): Secrets {
  const fresh = (): Secrets => ({
    jwtSecret: randomBytes(32).toString("base64url"),
    internalSecret: randomBytes(32).toString("base64url"),
  });
  if (!dataDir) return fresh();
  const file = path.join(dataDir, "secrets.json");
  if (existsSync(file)) return JSON.parse(readFileSync(file, "utf8")) as Secrets;
  const s = fresh();
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, JSON.stringify(s), { mode: 0o600 });
  return s;
}

/** A port the user asked for is taken: `npm start` turns this into one line naming `--port`. */
export class PortInUseError extends Error {
  constructor(readonly port: number) {
    super(`port ${port} is already in use`);
  }
}

async function assertPortFree(port: number, host: string): Promise<void> {
  if (!(await canListen(port, host))) throw new PortInUseError(port);
}

/** Where this machine reaches a gateway bound to `host`. */
const probeHost = (host: string): string =>
  host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;

export async function startLocalStack(opts: LocalStackOptions = {}): Promise<LocalStack> {
  const dataDir = opts.inMemory ? undefined : (opts.dataDir ?? path.join(repoRoot, "data"));
  // Before anything starts: a port the user chose that is taken fails at once, naming the port.
  for (let i = 0; opts.basePort && i < (opts.gateways ?? 1); i++) {
    await assertPortFree(opts.basePort + i, opts.host ?? "127.0.0.1");
  }
  const backend = localDynamodbBackend(opts.dynamodb);
  const dbDir = dataDir && path.join(dataDir, backend === "dynamodb-local" ? "dynamodb-local" : "dynamodb");
  const emulators = await startEmulators({ dynamodb: backend, dataDir: dbDir });
  try {
    const aws = emulatorAws(emulators);
    const provisioned = await provisionEmulators(emulators, LOCAL_PREFIX, {
      visibilityTimeoutSeconds: opts.visibilityTimeoutSeconds,
    });
    const env = localEnv(provisioned, { sqs: emulators.sqs.endpoint, dynamodb: emulators.dynamodb.endpoint });

    const count = opts.gateways ?? 1;
    const host = opts.host ?? "127.0.0.1";
    const ports: number[] = [];
    for (let i = 0; i < count; i++) ports.push(opts.basePort ? opts.basePort + i : await freePort());
    const hostOrigins = host === "127.0.0.1" || host === "0.0.0.0" || host === "::" ? [] : [host];
    const origins = ports.flatMap((p) =>
      ["127.0.0.1", "localhost", ...hostOrigins].map((h) => `http://${h.includes(":") ? `[${h}]` : h}:${p}`),
    );
    const secrets = loadSecrets(dataDir);
    const webDir =
      opts.webDir ??
      (existsSync(path.join(repoRoot, "web/dist/index.html")) ? path.join(repoRoot, "web/dist") : undefined);
    const gatewayBaseEnv: Record<string, string> = {
      ...env,
      [envNames.jwtSecret]: secrets.jwtSecret,
      [envNames.internalSecret]: secrets.internalSecret,
      [envNames.allowedOrigins]: origins.join(","),
      [envNames.advertiseHost]: "127.0.0.1",
      [envNames.bindHost]: host,
      ...(webDir ? { [envNames.webDir]: webDir } : {}),
      ...opts.gatewayEnv,
    };

    const startGateway = async (port: number, index: number): Promise<LocalGateway> => {
      const id = `gw-${index + 1}`;
      const internalPort = await freePort();
      const launch = async () => {
        const nonce = randomBytes(12).toString("base64url");
        const p = spawnTs(id, "runtime/gateway/main.ts", {
          env: {
            ...gatewayBaseEnv,
            [envNames.healthNonce]: nonce,
            [envNames.port]: String(port),
            [envNames.internalPort]: String(internalPort),
            [envNames.gatewayId]: id,
          },
          mirror: opts.mirror,
        });
        try {
          await waitForHealthy(p, `http://${probeHost(host)}:${port}/healthz`, 30_000, nonce);
        } catch (err) {
          await p.kill();
          throw err;
        }
        return p;
      };
      const gw: LocalGateway = {
        id,
        url: `http://${probeHost(host)}:${port}`,
        port,
        internalPort,
        process: await launch(),
        restart: async () => {
          await gw.process.stop();
          gw.process = await launch();
        },
      };
      return gw;
    };

    const drainInbound = async (timeoutMs: number) => {
      const sqs = createSqsClient(aws);
      const deadline = Date.now() + timeoutMs;
      try {
        while (Date.now() < deadline) {
          const a = await sqs.send(
            new GetQueueAttributesCommand({
              QueueUrl: provisioned.queueUrls.inbound,
              AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            }),
          );
          const left =
            Number(a.Attributes?.ApproximateNumberOfMessages) +
            Number(a.Attributes?.ApproximateNumberOfMessagesNotVisible);
          if (!left) return;
          await new Promise((r) => setTimeout(r, 100));
        }
      } catch {
        // emulator already gone: nothing to drain
      } finally {
        sqs.destroy();
      }
    };

    const stack: LocalStack = {
      url: "",
      gateways: [],
      emulators,
      provisioned,
      aws,
      env,
      gatewayBaseEnv,
      startRunner: async () => {
        const runner = spawnTs("persister", "runtime/local/runner.ts", {
          env: { ...env, ...opts.runnerEnv },
          mirror: opts.mirror,
        });
        await waitForOutput(runner, /persister runner polling/);
        stack.runner = runner;
        return runner;
      },
      addGateway: async () => {
        const port = await freePort();
        const gw = await startGateway(port, stack.gateways.length);
        stack.gateways.push(gw);
        return gw;
      },
      stop: async () => {
        await Promise.all(stack.gateways.map((g) => g.process.stop()));
        // fauxqs keeps queues in memory: let the persister store what was accepted before it goes away.
        if (stack.runner && stack.runner.child.exitCode === null) await drainInbound(5_000);
        await stack.runner?.stop();
        await emulators.stop();
      },
    };
    if (opts.persister !== false) await stack.startRunner();
    try {
      const started = await Promise.allSettled(ports.map((p, i) => startGateway(p, i)));
      for (const r of started) if (r.status === "fulfilled") stack.gateways.push(r.value);
      const failed = started.find((r) => r.status === "rejected");
      if (failed) throw failed.reason;
    } catch (err) {
      // A gateway that did not come up must not leave the runner and its siblings running (jest never exits).
      await Promise.all(stack.gateways.map((g) => g.process.stop()));
      await stack.runner?.stop();
      throw err;
    }
    return Object.assign(stack, { url: stack.gateways[0]?.url ?? "" });
  } catch (err) {
    await emulators.stop();
    throw err;
  }
}
