/**
 * The gateway starts from the task definition: the env names and values the Fargate container declares
 * (under mocks), AWS endpoints mapped to the emulators, the two secrets supplied the way the ECS agent
 * injects them, and the ECS task metadata endpoint the agent provides — then /healthz must answer 200,
 * and SIGTERM (the ECS stop signal) must end the process cleanly.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { buildContextTag } from "../../components/image-tag";
import { bundleHandler } from "../../components/persister";
import { GATEWAY_IMAGES_KEPT } from "../../components/gateway-image";
import { GATEWAY_CONTAINER_USER } from "../../components/gateway-task";
import {
  CLOSE_HANDSHAKE_MS,
  deregistrationDelaySeconds,
  drainDeadlineMs,
  drainTiming,
  env,
  gatewaySecretEnvVars,
  LB_HEALTH_PATH,
  loadGatewayConfig,
  LOCAL_CREDENTIALS,
  queues,
} from "../../runtime/contracts";
import { freePort, startEmulators, type Emulators } from "../../runtime/local/emulators";
import { localEnv, provisionEmulators, type Provisioned } from "../../runtime/local/provision";
import { loadProgram, type LoadedProgram } from "./mocks";
import { sleep, timing } from "../support/timing";

// Each loadProgram imports all of @pulumi/aws afresh: 10-60 s of CPU here, several times that under load.
jest.setTimeout(timing.ms(300_000));

const PREFIX = "parley-test";
const root = path.resolve(__dirname, "../..");

let emulators: Emulators;
let provisioned: Provisioned;
let program: LoadedProgram;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- recorded awsx inputs, checked by the assertions
let taskDefinition: any;
let container: {
  environment: { name: string; value: string }[];
  secrets: { name: string; valueFrom: string }[];
  portMappings: { containerPort: number }[];
  readonlyRootFilesystem?: boolean;
  user?: string;
  healthCheck?: unknown;
  stopTimeout?: number;
  mountPoints?: { sourceVolume: string; containerPath: string; readOnly?: boolean }[];
};
let metadata: Server;
let gateway: ChildProcess | undefined;
let folder: string | undefined;
const run = promisify(execFile);

beforeAll(async () => {
  program = await loadProgram({ deletionProtection: "false" });
  taskDefinition = program.one("awsx:ecs:FargateService", "gateway-service").inputs.taskDefinitionArgs;
  container = taskDefinition.container;
  emulators = await startEmulators();
  provisioned = await provisionEmulators(emulators, PREFIX);
  // Stand-in for the ECS task metadata endpoint v4 the agent serves inside every task.
  metadata = createServer((req, res) => {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ Containers: [{ Networks: [{ IPv4Addresses: ["127.0.0.1"] }] }] }));
  });
  metadata.listen(0, "127.0.0.1");
  await once(metadata, "listening");
});

afterAll(async () => {
  if (gateway && gateway.exitCode === null) {
    gateway.kill("SIGKILL");
    await once(gateway, "exit");
  }
  await new Promise((r) => metadata?.close(r));
  await emulators?.stop();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

test("the secrets come only through `secrets`: the plain env alone is not a loadable gateway config", () => {
  const declared = Object.fromEntries(container.environment.map((e) => [e.name, e.value]));
  expect(container.secrets.map((s) => s.name)).toEqual([...gatewaySecretEnvVars]);
  // Without the secrets the config must not load: they really come only from `secrets`.
  expect(() => loadGatewayConfig(declared)).toThrow(/PARLEY_JWT_SECRET|PARLEY_INTERNAL_SECRET/);
});

/** The task definition's env for this machine: emulator endpoints, injected secrets, ECS metadata, free ports. */
async function taskEnv(): Promise<{ childEnv: Record<string, string>; port: number }> {
  const declared = Object.fromEntries(container.environment.map((e) => [e.name, e.value]));
  const local = localEnv(provisioned, { sqs: emulators.sqs.endpoint, dynamodb: emulators.dynamodb.endpoint });
  const childEnv: Record<string, string> = {};
  for (const [name, value] of Object.entries(declared)) {
    // Queue URLs point at AWS; here they point at the emulator's queues of the same name.
    if (name === queues.inbound.envVar || name === queues.notify.envVar) {
      expect(value.split("/").pop()).toBe(local[name]!.split("/").pop());
      childEnv[name] = local[name]!;
    } else {
      childEnv[name] = value;
    }
  }
  // Table names need no mapping: same prefix, same contract.
  for (const [name, value] of Object.entries(local)) {
    if (name.startsWith("PARLEY_TABLE_") && name in declared) expect(declared[name]).toBe(value);
  }
  // The container ports are 8080/8081; on a shared machine the test takes free ones for the same roles.
  expect(Number(declared[env.port])).toBe(container.portMappings[0]!.containerPort);
  expect(Number(declared[env.internalPort])).toBe(container.portMappings[1]!.containerPort);
  const port = await freePort();
  childEnv[env.port] = String(port);
  childEnv[env.internalPort] = String(await freePort());
  // What the ECS agent adds: the secrets' values and the task metadata endpoint.
  for (const name of gatewaySecretEnvVars) childEnv[name] = randomBytes(32).toString("hex");
  childEnv.ECS_CONTAINER_METADATA_URI_V4 = `http://127.0.0.1:${(metadata.address() as { port: number }).port}/v4`;
  // The emulators stand in for AWS.
  childEnv[env.sqsEndpoint] = local[env.sqsEndpoint]!;
  childEnv[env.dynamodbEndpoint] = local[env.dynamodbEndpoint]!;
  childEnv.AWS_ACCESS_KEY_ID = LOCAL_CREDENTIALS.accessKeyId;
  childEnv.AWS_SECRET_ACCESS_KEY = LOCAL_CREDENTIALS.secretAccessKey;
  childEnv.NODE_NO_WARNINGS = "1";
  expect(childEnv[env.advertiseHost]).toBeUndefined();
  return { childEnv, port };
}

/** Starts the process, waits for /healthz 200, then stops it with SIGTERM and returns its exit code. */
async function healthyThenStopped(args: string[], cwd: string, childEnv: Record<string, string>, port: number) {
  let output = "";
  gateway = spawn(process.execPath, args, { cwd, env: childEnv, stdio: ["ignore", "pipe", "pipe"] });
  gateway.stdout?.on("data", (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  gateway.stderr?.on("data", (d: Buffer) => (output = (output + d.toString()).slice(-4000)));

  const deadline = Date.now() + 60_000;
  let status = 0;
  let body: { ok?: boolean; gatewayId?: string } = {};
  while (Date.now() < deadline && gateway.exitCode === null) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(1000) });
      status = res.status;
      body = (await res.json()) as typeof body;
      if (status === 200) break;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  if (status !== 200) throw new Error(`gateway did not answer /healthz with 200 (got ${status}); output:\n${output}`);
  const exited = once(gateway, "exit");
  gateway.kill("SIGTERM");
  const [code] = await exited;
  return { body, code: code as number | null };
}

test("the gateway starts with exactly the task definition's environment and answers /healthz with 200", async () => {
  const { childEnv, port } = await taskEnv();
  const { body, code } = await healthyThenStopped(
    [path.join(root, "node_modules/tsx/dist/cli.mjs"), "runtime/gateway/main.ts"],
    root,
    childEnv,
    port,
  );
  expect(body.ok).toBe(true);
  expect(typeof body.gatewayId).toBe("string");
  // SIGTERM is how ECS stops a task: the gateway drains and exits cleanly.
  expect(code).toBe(0);
});

test("the image's entry point — the Dockerfile's esbuild bundle, alone in a folder — starts the same way", async () => {
  const dockerfile = readFileSync(path.join(root, "Dockerfile"), "utf8");
  const bundleLine = /RUN npx esbuild (.+) --outfile=bin\/gateway\.js/.exec(dockerfile);
  expect(bundleLine).not.toBeNull();
  expect(dockerfile).toMatch(/CMD \["node", "gateway\.js"\]/);
  expect(dockerfile).toMatch(/^USER 1000:1000$/m);
  folder = mkdtempSync(path.join(tmpdir(), "parley-image-"));
  await run(
    path.join(root, "node_modules/esbuild/bin/esbuild"),
    [...bundleLine![1]!.split(/\s+/), `--outfile=${path.join(folder, "gateway.js")}`],
    { cwd: root },
  );
  // No source map beside the bundle or referenced from it (the image ships exactly this file).
  expect(readdirSync(folder)).toEqual(["gateway.js"]);
  expect(readFileSync(path.join(folder, "gateway.js"), "utf8")).not.toMatch(/sourceMappingURL=/);
  const { childEnv, port } = await taskEnv();
  const { body, code } = await healthyThenStopped(["gateway.js"], folder, childEnv, port);
  expect(body.ok).toBe(true);
  expect(code).toBe(0);
});

describe("drain before the ALB cuts sockets (deregistration delay vs. the gateway's drain, one set of numbers)", () => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- recorded awsx inputs
  let targetGroup: any;
  beforeAll(() => {
    targetGroup = program.one("awsx:lb:ApplicationLoadBalancer", "gateway-alb").inputs.defaultTargetGroup;
  });

  test("the ALB health-checks the path the gateway's watchdog counts, at the interval the watchdog assumes", () => {
    expect(targetGroup.healthCheck).toMatchObject({ path: LB_HEALTH_PATH, matcher: "200" });
    expect(targetGroup.healthCheck.interval * 1000).toBe(drainTiming.healthCheckIntervalMs);
    expect(targetGroup.healthCheck.timeout).toBeLessThan(targetGroup.healthCheck.interval);
  });

  test("the deregistration delay outlasts detection + spread + the last close handshake, with margin", () => {
    const delayMs = targetGroup.deregistrationDelay * 1000;
    const detectMs = drainTiming.healthCheckIntervalMs * drainTiming.missedHealthChecks;
    expect(delayMs).toBe(deregistrationDelaySeconds() * 1000);
    expect(delayMs).toBeGreaterThan(detectMs + drainTiming.drainSpreadMs + CLOSE_HANDSHAKE_MS);
    expect(delayMs).toBeGreaterThanOrEqual(drainDeadlineMs(drainTiming) + 10_000);
    // ALB's limit for deregistration_delay.timeout_seconds.
    expect(targetGroup.deregistrationDelay).toBeLessThanOrEqual(3600);
  });

  test("no container health check (the ALB target health check covers it; no second process every interval)", () => {
    expect(container.healthCheck).toBeUndefined();
    // SIGTERM arrives after the drain; what remains closes at once, within Fargate's 120 s maximum.
    expect(container.stopTimeout).toBeGreaterThan(0);
    expect(container.stopTimeout).toBeLessThanOrEqual(120);
  });
});

describe("/tmp is writable for uid 1000 on Fargate", () => {
  const dockerfile = () => readFileSync(path.join(root, "Dockerfile"), "utf8");
  const runtimeStage = () => dockerfile().split(/^FROM .* AS runtime$/m)[1]!;

  test("the task mounts a task (bind mount) volume at /tmp, read-write, under a read-only root filesystem", () => {
    expect(container.readonlyRootFilesystem).toBe(true);
    const mount = container.mountPoints!.find((m) => m.containerPath === "/tmp");
    expect(mount).toMatchObject({ readOnly: false });
    const volume = taskDefinition.volumes.find((v: { name: string }) => v.name === mount!.sourceVolume);
    // A bare name is a Fargate bind mount on the task's ephemeral storage (no host path, EFS or Docker volume).
    expect(Object.keys(volume)).toEqual(["name"]);
  });

  test("the image makes /tmp the container user's and declares it a VOLUME, so the bind mount is seeded from it", () => {
    const stage = runtimeStage();
    const owner = GATEWAY_CONTAINER_USER;
    const chown = stage.search(new RegExp(`^RUN .*chown ${owner} /tmp\\b`, "m"));
    const volume = stage.search(/^VOLUME \["\/tmp"\]$/m);
    expect(chown).toBeGreaterThan(-1);
    expect(volume).toBeGreaterThan(chown);
    // A RUN after VOLUME would not reach the volume's contents: nothing touches /tmp after the declaration.
    expect(stage.slice(volume)).not.toMatch(/^RUN /m);
    expect(stage).toMatch(new RegExp(`^USER ${owner}$`, "m"));
    expect(container.user).toBe(owner);
  });
});

describe("the image: pinned bases, immutable unique tags, bounded ECR history", () => {
  test("base images come from ARGs whose defaults are exact version tags (CI may pass name@sha256 digests)", () => {
    const dockerfile = readFileSync(path.join(root, "Dockerfile"), "utf8");
    const from = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]!);
    expect(from).toEqual(["${BUILD_IMAGE}", "${RUNTIME_IMAGE}"]);
    for (const arg of ["BUILD_IMAGE", "RUNTIME_IMAGE"]) {
      expect(dockerfile).toMatch(new RegExp(`^ARG ${arg}=node:\\d+\\.\\d+\\.\\d+-[a-z0-9.-]+$`, "m"));
    }
  });

  test("ECR: immutable tags and a lifecycle policy that keeps the last N images", () => {
    const repo = program.one("awsx:ecr:Repository", "gateway-repo").inputs;
    expect(repo.imageTagMutability).toBe("IMMUTABLE");
    expect(repo.lifecyclePolicy.rules).toEqual([
      expect.objectContaining({ tagStatus: "any", maximumNumberOfImages: GATEWAY_IMAGES_KEPT }),
    ]);
  });

  test("the image tag is the build context's content hash: new per change, stable when nothing changed", () => {
    const image = program.one("awsx:ecr:Image", "gateway-image").inputs;
    expect(image.imageTag).toBe(buildContextTag(root));

    const ctx = mkdtempSync(path.join(tmpdir(), "parley-context-"));
    try {
      writeFileSync(path.join(ctx, ".dockerignore"), "docs\n*.md\n**/node_modules\n");
      mkdirSync(path.join(ctx, "src"));
      mkdirSync(path.join(ctx, "docs"));
      writeFileSync(path.join(ctx, "src/a.ts"), "one");
      const first = buildContextTag(ctx);
      expect(first).toMatch(/^src-[0-9a-f]{16}$/);
      expect(buildContextTag(ctx)).toBe(first);
      // Ignored files are not sent to docker build, so they do not change the tag.
      writeFileSync(path.join(ctx, "docs/guide.txt"), "x");
      writeFileSync(path.join(ctx, "README.md"), "x");
      mkdirSync(path.join(ctx, "src/node_modules"));
      writeFileSync(path.join(ctx, "src/node_modules/dep.js"), "x");
      expect(buildContextTag(ctx)).toBe(first);
      // A context file that changes makes a new tag (an immutable repo refuses a second push under the old one).
      writeFileSync(path.join(ctx, "src/a.ts"), "two");
      expect(buildContextTag(ctx)).not.toBe(first);
      // *.md is top-level only, as in Docker: a nested one is part of the context.
      const second = buildContextTag(ctx);
      writeFileSync(path.join(ctx, "src/notes.md"), "x");
      expect(buildContextTag(ctx)).not.toBe(second);
    } finally {
      rmSync(ctx, { recursive: true, force: true });
    }
  });
});

test("no public source maps: the web build and the persister bundle emit none", () => {
  expect(readFileSync(path.join(root, "web/vite.config.mts"), "utf8")).toMatch(/^\s*sourcemap: false,$/m);
  expect(bundleHandler(path.join(root, "runtime/persister/lambda.ts"))).not.toMatch(/sourceMappingURL=/);
  // When a build is present (other suites build it), it holds no map and points at none.
  const dist = path.join(root, "web/dist");
  const files = existsSync(dist) ? readdirSync(dist, { recursive: true, encoding: "utf8" }) : [];
  expect(files.filter((f) => f.endsWith(".map"))).toEqual([]);
  for (const f of files.filter((f) => /\.(js|css)$/.test(f))) {
    expect(readFileSync(path.join(dist, f), "utf8")).not.toMatch(/sourceMappingURL=/);
  }
});
