/**
 * Every CLI run the way a user runs it (`npm run -s <script> -- …` from the repo root): `--help` prints every
 * option with its default and exits 0; an unknown option is one stderr line naming it, exit 2; the local
 * tools without a running stack, and stack:ephemeral without the Pulumi CLI, say so in one line.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { findOnPath } from "../../scripts/ephemeral/pulumi-cli";
import { runCommand, withoutNpmBanner, type CommandResult } from "../support/commands";

jest.setTimeout(120_000);

/** The command as a person types it: `npm start -- …` or `npm run <script> -- …`. */
function npmRun(script: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<CommandResult> {
  const npm = script === "start" ? "npm start" : `npm run ${script}`;
  return runCommand(`${npm} -- ${args.join(" ")}`, { env });
}

const stderrLines = (r: CommandResult) => r.stderr.split("\n").filter((l) => l !== "");

/** Each script and the options its users rely on (README, docs), so dropping one from a spec fails here. */
const clis: [script: string, prefix: string, options: string[]][] = [
  ["start", "npm start", ["gateways", "port", "host", "in-memory", "data", "verbose", "no-web-build"]],
  [
    "bench",
    "bench",
    [
      "quick",
      "clients",
      "gateways",
      "rate",
      "duration",
      "warmup",
      "rounds",
      "sweep",
      "sweep-duration",
      "drain",
      "body-bytes",
      "sync-messages",
      "runner-concurrency",
      "runner-batch",
      "systems",
      "profile",
      "heap",
      "out",
      "seed",
    ],
  ],
  ["dlq", "dlq", ["dry-run", "max", "prefix", "sqs-endpoint", "region", "data"]],
  ["smoke", "smoke", ["peer-url", "timeout-ms", "ready-timeout-ms", "data"]],
  ["stack:ephemeral", "stack:ephemeral", ["name", "keep", "region", "image", "diff", "policy-pack", "timeout-minutes"]],
];

describe.each(clis)("npm run %s", (script, prefix, options) => {
  it("--help: usage with every option and its default, exit 0", async () => {
    const r = await npmRun(script, ["--help"]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    expect(r.stdout).toMatch(/^usage: npm (start|run [\w:]+) --/m);
    for (const option of [...options, "help"]) {
      const line = r.stdout.split("\n").find((l) => new RegExp(`^ {2}(-\\w, )?--${option}( <[^>]+>)? {2,}`).test(l));
      expect({ option, listed: line !== undefined }).toEqual({ option, listed: true });
      if (option !== "help") {
        // The default may wrap onto the next line; it belongs to this option's entry either way.
        const entry = r.stdout.slice(r.stdout.indexOf(line!)).split(/\n {2}-/)[0]!;
        expect({ option, entry }).toEqual({ option, entry: expect.stringMatching(/\(default:\s[^)]+\)/) });
      }
    }
  });

  it("--bogus: one stderr line naming it and pointing to --help, exit 2", async () => {
    const r = await npmRun(script, ["--bogus"]);
    expect(r.code).toBe(2);
    expect(stderrLines(r)).toEqual([`${prefix}: unknown option --bogus (see --help)`]);
    expect(r.stdout).not.toMatch(/\bat .*\.ts:\d+/);
  });
});

describe("without a running stack or the tools it needs", () => {
  let emptyData: string;
  beforeAll(() => {
    emptyData = mkdtempSync(path.join(os.tmpdir(), "parley-nostack-"));
  });
  afterAll(() => rmSync(emptyData, { recursive: true, force: true }));

  /** Nothing that names a stack: the user's shell before `npm start`. */
  const bareEnv = (): NodeJS.ProcessEnv =>
    Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(PARLEY_|AWS_)/.test(k)));

  it("npm run dlq -- list inbound: the one-line hint, exit 1", async () => {
    const r = await npmRun("dlq", ["list", "inbound", "--data", emptyData], bareEnv());
    expect(r.code).toBe(1);
    expect(stderrLines(r)).toEqual(["dlq: no local stack running — start it with `npm start`, or pass --sqs-endpoint"]);
  });

  it("npm run smoke: the one-line hint, exit 1", async () => {
    const r = await npmRun("smoke", ["--data", emptyData], bareEnv());
    expect(r.code).toBe(1);
    expect(stderrLines(r)).toEqual([
      "smoke: no local stack running — start it with `npm start`, or pass a gateway URL: npm run smoke -- http://localhost:8080",
    ]);
  });

  it("npm run stack:ephemeral -- preview without the Pulumi CLI: how to install it, exit 3 (setup)", async () => {
    // Drop any PATH entry holding a pulumi, so this holds on a machine that has one.
    const PATH = (process.env.PATH ?? "")
      .split(path.delimiter)
      .filter((dir) => !findOnPath("pulumi", { PATH: dir }))
      .join(path.delimiter);
    const env: NodeJS.ProcessEnv = { ...bareEnv(), PATH };
    delete env.GITHUB_OUTPUT;
    const r = await runCommand("npm run stack:ephemeral -- preview", { env });
    expect(r.code).toBe(3);
    const lines = stderrLines(r);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^stack:ephemeral: the Pulumi CLI is required/);
    expect(lines[0]).toContain("curl -fsSL https://get.pulumi.com | sh");
    expect(lines[0]).toContain("docs/deploy.md");
    expect(withoutNpmBanner(r.stdout)).toBe("");
  });
});
