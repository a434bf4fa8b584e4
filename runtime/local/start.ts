/**
 * `npm start`: the whole of Parley on this machine. Options: `npm start -- --help` (startCli below).
 */
import path from "node:path";
import { env, localDynamodbBackends } from "../contracts";
import { CliError, defineCli, int, oneOf, parseCli, runCli, UsageError } from "../cli/args";
import { LOCAL_PREFIX, PortInUseError, startLocalStack } from "./stack";
import { defaultDataDir, removeStackState, writeStackState } from "./state-file";
import { buildWebClient, webBuildState } from "./web-build";

async function buildWebIfNeeded(): Promise<void> {
  const state = webBuildState();
  if (state === "fresh") return;
  console.log(
    state === "missing" ? "Building the web client (first run only)…" : "Rebuilding the web client (sources changed)…",
  );
  await buildWebClient();
}

export const startCli = defineCli({
  command: "npm start --",
  summary: "The whole of Parley on this machine: emulators, persister runner, gateways and the web client.",
  maxPositionals: 0,
  options: {
    gateways: {
      type: "string",
      value: "n",
      description: "gateway processes, on consecutive ports from --port",
      default: 1,
      parse: int(1, 16),
    },
    port: {
      type: "string",
      value: "port",
      description: "first gateway's public port",
      default: 8080,
      parse: int(1, 65535),
    },
    host: { type: "string", value: "address", description: "interface the gateways listen on", default: "127.0.0.1" },
    "in-memory": {
      type: "boolean",
      description: "keep DynamoDB in memory instead of --data (messages do not survive a restart)",
    },
    data: {
      type: "string",
      value: "dir",
      description: "where DynamoDB data and the local secrets live",
      defaultText: "data/",
    },
    dynamodb: {
      type: "string",
      value: "backend",
      description: `local DynamoDB: ${localDynamodbBackends.join(" or ")} (opt-in, needs Java 17 and its package: README)`,
      defaultText: `$${env.localDynamodb}, else dynalite`,
      parse: oneOf(localDynamodbBackends),
    },
    verbose: { type: "boolean", description: "mirror every process's logs to this terminal" },
    "no-web-build": {
      type: "boolean",
      description: "serve whatever web/dist holds (or no client) instead of building it when missing or stale",
    },
  },
});

/** What a person opens: localhost for loopback and wildcard binds, else the address they asked for. */
function openUrl(host: string, port: number): string {
  const local = ["127.0.0.1", "0.0.0.0", "::", "::1", "localhost"].includes(host);
  return `http://${local ? "localhost" : host.includes(":") ? `[${host}]` : host}:${port}`;
}

async function main(): Promise<void> {
  const { values } = parseCli(startCli, process.argv.slice(2));
  const { gateways, port: basePort, host } = values;
  if (basePort + gateways - 1 > 65535)
    throw new UsageError(`--port ${basePort} leaves no room for ${gateways} gateways`);

  const dataDir = values.data ? path.resolve(values.data) : defaultDataDir();
  if (!values["no-web-build"]) await buildWebIfNeeded();
  const started = Date.now();
  const stack = await startLocalStack({
    gateways,
    basePort,
    host,
    inMemory: values["in-memory"],
    dataDir,
    dynamodb: values.dynamodb,
    mirror: values.verbose ? process.stdout : undefined,
  }).catch((err: unknown) => {
    if (err instanceof PortInUseError) {
      throw new CliError(`port ${err.port} is already in use — stop whatever holds it, or pick another with --port`);
    }
    throw err;
  });
  writeStackState(dataDir, {
    v: 1,
    pid: process.pid,
    startedAt: new Date().toISOString(),
    region: stack.aws.region,
    sqsEndpoint: stack.emulators.sqs.endpoint,
    dynamodbEndpoint: stack.emulators.dynamodb.endpoint,
    prefix: LOCAL_PREFIX,
    queueUrls: stack.provisioned.queueUrls,
    tables: stack.provisioned.tableNames,
    gateways: stack.gateways.map((g) => ({ id: g.id, url: g.url })),
    ...(values["in-memory"] ? {} : { dataDir }),
  });
  const lines = [
    "",
    `Parley is running (${Date.now() - started} ms).`,
    `  Open:            ${openUrl(host, stack.gateways[0]!.port)}`,
    ...stack.gateways.slice(1).map((g) => `  also gateway:    ${openUrl(host, g.port)}  (${g.id})`),
    `  SQS (fauxqs):    ${stack.emulators.sqs.endpoint}`,
    `  DynamoDB:        ${stack.emulators.dynamodb.endpoint}  (${stack.emulators.dynamodb.name}, ${values["in-memory"] ? "in memory" : path.join(values.data ?? "data", stack.emulators.dynamodb.name === "dynalite" ? "dynamodb" : "dynamodb-local")})`,
    `  Persister:       runner process polling the inbound FIFO queue`,
    "Press Ctrl-C to stop.",
    "",
  ];
  console.log(lines.join("\n"));

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping gateways, persister and emulators…`);
    const force = setTimeout(() => process.exit(1), 10_000);
    removeStackState(dataDir);
    stack.stop().then(
      () => {
        clearTimeout(force);
        console.log("Stopped.");
        process.exit(0);
      },
      (err) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
}

void runCli("npm start", main);
