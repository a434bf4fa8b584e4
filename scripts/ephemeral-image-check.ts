/**
 * `npx tsx scripts/ephemeral-image-check.ts <image>`: runs a built gateway image read-only as uid 1000 against
 * the local emulators and checks /healthz, the web client and a clean SIGTERM (scripts/ephemeral/image-check.ts).
 * Needs a Docker engine; CI runs it after `docker build`, before any stack is previewed. Exit 0 or 1.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { GATEWAY_CONTAINER_USER, GATEWAY_WEB_DIR } from "../components/gateway-task";
import { freePort, startEmulators } from "../runtime/local/emulators";
import { localEnv, provisionEmulators } from "../runtime/local/provision";
import { checkImage, type RunningContainer } from "./ephemeral/image-check";

async function startBackends() {
  const emulators = await startEmulators();
  const provisioned = await provisionEmulators(emulators, "parley-image-check");
  return {
    env: localEnv(provisioned, { sqs: emulators.sqs.endpoint, dynamodb: emulators.dynamodb.endpoint }),
    stop: () => emulators.stop(),
  };
}

function runContainer(args: readonly string[]): RunningContainer {
  // Container logs go to this job's log (the gateway never logs secrets); stdin stays closed.
  const child = spawn("docker", args, { stdio: ["ignore", "inherit", "inherit"] });
  const name = args[args.indexOf("--name") + 1]!;
  const exited = new Promise<number>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
  return {
    exited,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        const stopper = spawn("docker", ["stop", "--time", "15", name], { stdio: "ignore" });
        stopper.once("error", reject);
        stopper.once("exit", () => resolve());
      }),
  };
}

async function main(): Promise<number> {
  const image = process.argv[2];
  if (!image || process.argv.length > 3) {
    console.error("usage: npx tsx scripts/ephemeral-image-check.ts <image>");
    return 2;
  }
  try {
    await checkImage(
      { image, container: { user: GATEWAY_CONTAINER_USER, webDir: GATEWAY_WEB_DIR } },
      {
        startBackends,
        async writeEnvFile(values) {
          const dir = await mkdtemp(path.join(tmpdir(), "parley-image-check-"));
          const file = path.join(dir, "gateway.env");
          const lines = Object.entries(values).map(([k, v]) => `${k}=${v}`);
          await writeFile(file, `${lines.join("\n")}\n`, { mode: 0o600 });
          return { path: file, remove: () => rm(dir, { recursive: true, force: true }) };
        },
        runContainer,
        freePort,
        fetch: (url, init) => fetch(url, init),
        log: (line) => console.log(`[image-check] ${line}`),
        sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      },
    );
    console.log(`[image-check] ${image}: healthz, web client and SIGTERM ok`);
    return 0;
  } catch (err) {
    console.error(`[image-check] FAILED: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

void main().then((code) => process.exit(code));
