/**
 * How the local tools find what to talk to: the running `npm start`'s state file when nothing else names a
 * stack, a one-line hint when there is none; and whether the Pulumi CLI is on PATH.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { CliError } from "../../runtime/cli/args";
import { LOCAL_REGION } from "../../runtime/contracts";
import { writeStackState, type LocalStackState } from "../../runtime/local/state-file";
import { parseSmokeArgs, smokeTargets } from "../../runtime/smoke/main";
import { parseDlqArgs } from "../../scripts/dlq/args";
import { targetEnv } from "../../scripts/dlq/cli";
import { findOnPath } from "../../scripts/ephemeral/pulumi-cli";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "parley-cli-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const state = (over: Partial<LocalStackState> = {}): LocalStackState => ({
  v: 1,
  pid: process.pid,
  startedAt: new Date().toISOString(),
  region: LOCAL_REGION,
  sqsEndpoint: "http://127.0.0.1:4101",
  dynamodbEndpoint: "http://127.0.0.1:4102",
  prefix: "parley-local",
  queueUrls: {
    inbound: "http://127.0.0.1:4101/000000000000/parley-local-inbound.fifo",
    notify: "http://127.0.0.1:4101/000000000000/parley-local-notify",
  },
  tables: { conversations: "parley-local-conversations" },
  gateways: [
    { id: "gw-1", url: "http://127.0.0.1:4201" },
    { id: "gw-2", url: "http://127.0.0.1:4202" },
  ],
  ...over,
});

/** A pid that is certainly not running: far above any pid_max. */
const DEAD_PID = 2 ** 30;

describe("dlq target", () => {
  const args = (...extra: string[]) => parseDlqArgs(["list", "inbound", "--data", dir, ...extra]);

  it("uses the running stack's endpoint, region, queues and table when nothing names one", () => {
    writeStackState(dir, state({ region: "eu-west-1" }));
    const env = targetEnv(args(), { AWS_REGION: "ap-south-1", HOME: "/home/x" });
    expect(env).toEqual({
      HOME: "/home/x",
      AWS_REGION: "eu-west-1",
      PARLEY_SQS_ENDPOINT: "http://127.0.0.1:4101",
      PARLEY_DYNAMODB_ENDPOINT: "http://127.0.0.1:4102",
      PARLEY_INBOUND_QUEUE_URL: "http://127.0.0.1:4101/000000000000/parley-local-inbound.fifo",
      PARLEY_NOTIFY_QUEUE_URL: "http://127.0.0.1:4101/000000000000/parley-local-notify",
      PARLEY_TABLE_CONVERSATIONS: "parley-local-conversations",
    });
  });

  it.each([
    ["a queue URL var", [], { PARLEY_INBOUND_QUEUE_URL: "https://sqs.eu-west-1.amazonaws.com/1/q.fifo" }],
    ["PARLEY_SQS_ENDPOINT", [], { PARLEY_SQS_ENDPOINT: "http://127.0.0.1:9" }],
    ["--sqs-endpoint", ["--sqs-endpoint", "http://127.0.0.1:9"], {}],
    ["--prefix", ["--prefix", "parley-prod"], {}],
  ])("leaves the env alone when %s names the stack", (_what, extra, env) => {
    writeStackState(dir, state());
    expect(targetEnv(args(...extra), env)).toBe(env);
  });

  it.each([
    ["no state file", () => undefined],
    ["a state file whose process is gone", () => writeStackState(dir, state({ pid: DEAD_PID }))],
    ["an unreadable state file", () => writeFileSync(path.join(dir, "local-stack.json"), "{")],
  ])("with %s: the one-line hint naming --sqs-endpoint, exit 1", (_what, setup) => {
    setup();
    let err: unknown;
    try {
      targetEnv(args(), {});
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(1);
    expect((err as Error).message).toBe("no local stack running — start it with `npm start`, or pass --sqs-endpoint");
  });
});

describe("smoke target", () => {
  it("a given URL wins and needs no stack", () => {
    expect(smokeTargets(parseSmokeArgs(["http://example.test:80", "--data", dir]))).toEqual({
      baseUrl: "http://example.test:80",
      peerUrl: undefined,
    });
  });

  it("without one: the first gateway, the second as peer unless --peer-url says otherwise", () => {
    writeStackState(dir, state());
    expect(smokeTargets(parseSmokeArgs(["--data", dir]))).toEqual({
      baseUrl: "http://127.0.0.1:4201",
      peerUrl: "http://127.0.0.1:4202",
    });
    expect(smokeTargets(parseSmokeArgs(["--data", dir, "--peer-url", "http://127.0.0.1:9"]))).toEqual({
      baseUrl: "http://127.0.0.1:4201",
      peerUrl: "http://127.0.0.1:9",
    });
    writeStackState(dir, state({ gateways: [{ id: "gw-1", url: "http://127.0.0.1:4201" }] }));
    expect(smokeTargets(parseSmokeArgs(["--data", dir]))).toEqual({
      baseUrl: "http://127.0.0.1:4201",
      peerUrl: undefined,
    });
  });

  it("no stack running: the hint naming the URL form", () => {
    writeStackState(dir, state({ pid: DEAD_PID }));
    expect(() => smokeTargets(parseSmokeArgs(["--data", dir]))).toThrow(
      new CliError(
        "no local stack running — start it with `npm start`, or pass a gateway URL: npm run smoke -- http://localhost:8080",
      ),
    );
  });

  it("rejects a base URL that is not one", () => {
    expect(() => parseSmokeArgs(["localhost:8080"])).toThrow('the base URL must be a URL, got "localhost:8080"');
  });
});

describe("findOnPath", () => {
  it("finds an executable file, skipping non-executable files and folders", () => {
    const [a, b, c] = ["a", "b", "c"].map((d) => path.join(dir, d));
    for (const d of [a!, b!, c!]) mkdirSync(d);
    writeFileSync(path.join(a!, "pulumi"), "not executable");
    mkdirSync(path.join(b!, "pulumi"));
    writeFileSync(path.join(c!, "pulumi"), "#!/bin/sh\n");
    chmodSync(path.join(c!, "pulumi"), 0o755);
    const PATH = [a, b, c].join(path.delimiter);
    expect(findOnPath("pulumi", { PATH }, "linux")).toBe(path.join(c!, "pulumi"));
    expect(findOnPath("pulumi", { PATH: [a, b].join(path.delimiter) }, "linux")).toBeUndefined();
    expect(findOnPath("pulumi", {}, "linux")).toBeUndefined();
  });
});
