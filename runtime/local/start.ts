/**
 * `npm start`: the whole of Parley on this machine. Options:
 *   --gateways N   gateway processes (default 1), on consecutive ports from --port
 *   --port P       first gateway's public port (default 8080)
 *   --in-memory    keep DynamoDB in memory instead of data/ (messages do not survive a restart)
 *   --data DIR     where DynamoDB data and the local secrets live (default data/)
 *   --verbose      mirror every process's logs to this terminal
 *   --no-web-build serve whatever web/dist holds (or no client) instead of building it when missing
 */
import path from "node:path";
import { parseArgs } from "node:util";
import { startLocalStack } from "./stack";
import { buildWebClient, webBuildState } from "./web-build";

async function buildWebIfNeeded(): Promise<void> {
  const state = webBuildState();
  if (state === "fresh") return;
  console.log(
    state === "missing" ? "Building the web client (first run only)…" : "Rebuilding the web client (sources changed)…",
  );
  await buildWebClient();
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      gateways: { type: "string", default: "1" },
      port: { type: "string", default: "8080" },
      "in-memory": { type: "boolean", default: false },
      data: { type: "string" },
      verbose: { type: "boolean", default: false },
      "no-web-build": { type: "boolean", default: false },
    },
  });
  const gateways = Number(values.gateways);
  const basePort = Number(values.port);
  if (!Number.isInteger(gateways) || gateways < 1 || gateways > 16) throw new Error("--gateways must be 1–16");
  if (!Number.isInteger(basePort) || basePort < 1 || basePort > 65535 - gateways) throw new Error("--port is invalid");

  if (!values["no-web-build"]) await buildWebIfNeeded();
  const started = Date.now();
  const stack = await startLocalStack({
    gateways,
    basePort,
    inMemory: values["in-memory"],
    dataDir: values.data && path.resolve(values.data),
    mirror: values.verbose ? process.stdout : undefined,
  });
  const lines = [
    "",
    `Parley is running (${Date.now() - started} ms).`,
    `  Open:            http://localhost:${stack.gateways[0]!.port}`,
    ...stack.gateways.slice(1).map((g) => `  also gateway:    http://localhost:${g.port}  (${g.id})`),
    `  SQS (fauxqs):    ${stack.emulators.sqs.endpoint}`,
    `  DynamoDB:        ${stack.emulators.dynamodb.endpoint}  (${values["in-memory"] ? "in memory" : path.join(values.data ?? "data", "dynamodb")})`,
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

main().catch((err) => {
  console.error(`Parley failed to start: ${(err as Error).message}`);
  process.exit(1);
});
