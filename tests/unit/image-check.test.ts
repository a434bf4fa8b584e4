import { env, loadGatewayConfig, tableNamesFor } from "../../runtime/contracts";
import { localEnv } from "../../runtime/local/provision";
import {
  checkImage,
  dockerRunArgs,
  type ImageCheckDeps,
  type RunningContainer,
} from "../../scripts/ephemeral/image-check";
import { sleep } from "../support/timing";

const container = { user: "1000:1000", webDir: "/app/web" };
const queueUrl = (n: string) => `http://127.0.0.1:20001/000000000000/${n}`;
/** What the emulators hand the check: the local stack's env for provisioned tables and queues. */
const backends = localEnv(
  {
    tableNames: tableNamesFor("parley-image-check"),
    queueUrls: { inbound: queueUrl("inbound.fifo"), notify: queueUrl("notify") },
    dlqUrls: { inbound: queueUrl("inbound-dlq.fifo"), notify: queueUrl("notify-dlq") },
  },
  { sqs: "http://127.0.0.1:20001", dynamodb: "http://127.0.0.1:20002" },
);

/** A stand-in Docker: `behave` decides how the "container" answers and exits. */
function harness(
  behave: {
    healthz?: (nonce: string, attempt: number) => { status: number; body: string };
    exitEarly?: number;
    exitOnStop?: number | "never";
  } = {},
) {
  const events: string[] = [];
  let written: Record<string, string> = {};
  let dockerArgs: readonly string[] = [];
  let attempts = 0;
  let exit: (code: number) => void = () => undefined;
  const deps: ImageCheckDeps = {
    startBackends: async () => {
      events.push("backends up");
      return { env: { ...backends }, stop: async () => void events.push("backends down") };
    },
    writeEnvFile: async (values) => {
      written = values;
      events.push("env file written");
      return { path: "/tmp/x/gateway.env", remove: async () => void events.push("env file removed") };
    },
    runContainer: (args): RunningContainer => {
      dockerArgs = args;
      events.push("docker run");
      const exited = new Promise<number>((resolve) => (exit = resolve));
      if (behave.exitEarly !== undefined) setTimeout(() => exit(behave.exitEarly!), 0);
      return {
        exited,
        stop: async () => {
          events.push("docker stop");
          if (behave.exitOnStop !== "never") exit(behave.exitOnStop ?? 0);
        },
      };
    },
    freePort: (() => {
      let p = 30_000;
      return async () => ++p;
    })(),
    fetch: async (url) => {
      const nonce = written[env.healthNonce]!;
      if (url.endsWith("/healthz")) {
        attempts += 1;
        const r = behave.healthz?.(nonce, attempts) ?? { status: 200, body: JSON.stringify({ ok: true, nonce }) };
        return { status: r.status, text: async () => r.body };
      }
      return { status: 200, text: async () => "<!doctype html><html><body>parley</body></html>" };
    },
    log: () => undefined,
    sleep: (ms) => sleep(Math.min(ms, 5)),
  };
  return { deps, events, env: () => written, args: () => dockerArgs, attempts: () => attempts };
}

describe("gateway image check", () => {
  it("runs the image read-only as uid 1000 with a scratch /tmp, no capabilities, the env from a file", () => {
    const args = dockerRunArgs({ image: "parley-gateway:ci", envFile: "/tmp/e", name: "n", container });
    expect(args.slice(0, 2)).toEqual(["run", "--rm"]);
    expect(args).toContain("--read-only");
    expect(args.join(" ")).toContain("--user 1000:1000");
    expect(args.join(" ")).toMatch(/--tmpfs \/tmp:rw,noexec,nosuid,size=\d+m/);
    expect(args.join(" ")).toContain("--cap-drop ALL");
    expect(args.join(" ")).toContain("--env-file /tmp/e");
    expect(args.at(-1)).toBe("parley-gateway:ci");
  });

  it("passes: healthz with this run's nonce, the web client, exit 0 on SIGTERM; then cleans up", async () => {
    const h = harness({
      healthz: (nonce, n) =>
        n < 3 ? { status: 503, body: "{}" } : { status: 200, body: JSON.stringify({ ok: true, nonce }) },
    });
    await checkImage({ image: "img", container }, h.deps);
    expect(h.attempts()).toBe(3);
    expect(h.events).toEqual([
      "backends up",
      "env file written",
      "docker run",
      "docker stop",
      "env file removed",
      "backends down",
    ]);
    // The env is one the gateway accepts: the same loader the container runs.
    const config = loadGatewayConfig(h.env());
    expect(config.port).toBe(Number(h.env()[env.port]));
    expect(config.aws.dynamodbEndpoint).toBe(backends[env.dynamodbEndpoint]);
    expect(config.webDir).toBe("/app/web");
    expect(config.allowedOrigins).toEqual([`http://127.0.0.1:${config.port}`]);
    // Secrets go only into the env file, never onto the docker command line.
    expect(h.args().join(" ")).not.toContain(h.env()[env.jwtSecret]!);
    expect(h.env()[env.jwtSecret]).toMatch(/^[0-9a-f]{64}$/);
  });

  it("fails at healthz when something else answers (wrong nonce), and still cleans up", async () => {
    const h = harness({ healthz: () => ({ status: 200, body: JSON.stringify({ ok: true, nonce: "other" }) }) });
    await expect(checkImage({ image: "img", container, readyTimeoutMs: 30 }, h.deps)).rejects.toThrow(
      /^step healthz: GET \/healthz did not answer 200 with this run's nonce/,
    );
    expect(h.events.slice(-3)).toEqual(["docker stop", "env file removed", "backends down"]);
  });

  it("fails at healthz when the container exits first (e.g. cannot write its filesystem)", async () => {
    const h = harness({ exitEarly: 1, healthz: () => ({ status: 503, body: "" }) });
    await expect(checkImage({ image: "img", container, readyTimeoutMs: 1_000 }, h.deps)).rejects.toThrow(
      "step healthz: the container exited with code 1 before answering",
    );
    expect(h.events).not.toContain("docker stop");
    expect(h.events.slice(-2)).toEqual(["env file removed", "backends down"]);
  });

  it("fails at shutdown on a non-zero exit after SIGTERM, or none within the deadline", async () => {
    const crashed = harness({ exitOnStop: 137 });
    await expect(checkImage({ image: "img", container }, crashed.deps)).rejects.toThrow(
      "step shutdown: the container exited with code 137 after SIGTERM, expected 0",
    );
    const hung = harness({ exitOnStop: "never" });
    await expect(checkImage({ image: "img", container, stopTimeoutMs: 20 }, hung.deps)).rejects.toThrow(
      "step shutdown: the container did not exit 20 ms after SIGTERM",
    );
  });
});
