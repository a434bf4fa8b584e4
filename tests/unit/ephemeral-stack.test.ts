import fc from "fast-check";
import { parseConfig, type RawConfig } from "../../components/config";
import { parseArgs, UsageError, type EphemeralArgs } from "../../scripts/ephemeral/args";
import { ephemeralConfig } from "../../scripts/ephemeral/config";
import { deriveStackName, namePrefixFor, stackNameProblem } from "../../scripts/ephemeral/names";
import { exitCodes, runEphemeral } from "../../scripts/ephemeral/run";
import type {
  EngineOptions,
  EphemeralDeps,
  EphemeralStack,
  PreviewRequest,
  StackOutput,
} from "../../scripts/ephemeral/types";

type Op = "setAllConfig" | "preview" | "up" | "destroy" | "cancel" | "remove";
type Behaviour = (options?: EngineOptions) => Promise<unknown>;

/** A stack whose operations are recorded in one shared call log and scripted per test. */
function harness(
  opts: {
    name?: string;
    created?: boolean;
    behave?: Partial<Record<Op, Behaviour>>;
    openError?: Error;
    smoke?: (appUrl: string, signal: AbortSignal) => Promise<{ durationMs: number }>;
  } = {},
) {
  const calls: string[] = [];
  const signals: Partial<Record<Op | "smoke", AbortSignal>> = {};
  /** The options of every engine call, in order (preview's diff/expectNoChanges/policyPacks included). */
  const engineCalls: { op: Op; options: PreviewRequest }[] = [];
  const written: string[] = [];
  const lines: string[] = [];
  let config: Record<string, { value: string }> | undefined;
  const run = (op: Op, fallback: Behaviour) => async (arg?: unknown) => {
    calls.push(op);
    if (op === "setAllConfig") config = arg as typeof config;
    const engine = op === "setAllConfig" ? undefined : (arg as EngineOptions | undefined);
    if (engine) {
      signals[op] = engine.signal;
      engineCalls.push({ op, options: engine });
    }
    return (opts.behave?.[op] ?? fallback)(engine);
  };
  const upResult: { outputs: Record<string, StackOutput> } = { outputs: { appUrl: { value: "http://app.test" } } };
  const stack = {
    name: opts.name ?? "ephemeral-test",
    setAllConfig: run("setAllConfig", async () => undefined),
    preview: run("preview", async () => ({})),
    up: run("up", async () => upResult),
    destroy: run("destroy", async () => ({})),
    cancel: run("cancel", async () => undefined),
    remove: run("remove", async () => undefined),
  } as unknown as EphemeralStack;
  const deps: EphemeralDeps = {
    openStack: async (name, { create }) => {
      calls.push(`open ${name} create=${create}`);
      if (opts.openError) throw opts.openError;
      return { stack, created: opts.created ?? true };
    },
    runSmoke: async (appUrl, { signal }) => {
      calls.push(`smoke ${appUrl}`);
      signals.smoke = signal;
      return (opts.smoke ?? (async () => ({ durationMs: 5 })))(appUrl, signal);
    },
    log: (line) => lines.push(line),
    write: (chunk) => written.push(chunk),
    graceMs: 30,
    teardownTimeoutMs: 200,
    smokeReadyTimeoutMs: 0,
  };
  return { calls, signals, engineCalls, written, lines, deps, config: () => config };
}

function args(over: Partial<EphemeralArgs> = {}): EphemeralArgs {
  return {
    command: "up",
    stackName: "ephemeral-test",
    keep: false,
    region: "eu-west-1",
    timeoutMs: 5_000,
    diff: false,
    ...over,
  };
}

const fail = (message: string) => async () => {
  throw new Error(message);
};

/** An engine operation that stops when aborted, as the Pulumi CLI does on SIGINT. */
const untilAborted: Behaviour = (engine) =>
  new Promise((_, reject) => engine?.signal.addEventListener("abort", () => reject(new Error("interrupted"))));

describe("stack names", () => {
  it("derives from the pull request number, then the branch, then the user", () => {
    expect(deriveStackName({ GITHUB_REF: "refs/pull/42/merge", GITHUB_HEAD_REF: "feat/x" }, "abc123")).toBe(
      "ephemeral-pr-42-abc123",
    );
    expect(deriveStackName({ GITHUB_HEAD_REF: "Feature/Add_Login!", GITHUB_REF: "refs/heads/x" }, "abc123")).toBe(
      "ephemeral-feature-add-login-abc123",
    );
    expect(deriveStackName({ GITHUB_REF_NAME: "main" }, "abc123")).toBe("ephemeral-main-abc123");
    expect(deriveStackName({ USER: "Ada" }, "abc123")).toBe("ephemeral-ada-abc123");
    expect(deriveStackName({}, "abc123")).toBe("ephemeral-local-abc123");
    expect(deriveStackName({ GITHUB_REF_NAME: "///" }, "abc123")).toBe("ephemeral-local-abc123");
  });

  it("adds a random suffix so two runs for the same PR never share a stack", () => {
    const env = { GITHUB_REF: "refs/pull/7/merge" };
    const a = deriveStackName(env);
    const b = deriveStackName(env);
    expect(a).toMatch(/^ephemeral-pr-7-[a-z0-9]{6}$/);
    expect(a).not.toBe(b);
  });

  it("always derives a name the script accepts and whose resource prefix the program accepts", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), fc.string({ maxLength: 300 }), (head, ref) => {
        const name = deriveStackName({ GITHUB_HEAD_REF: head, GITHUB_REF_NAME: ref });
        expect(stackNameProblem(name)).toBeUndefined();
        expect(namePrefixFor(name)).toMatch(/^[a-z][a-z0-9-]{0,27}[a-z0-9]$/);
      }),
    );
  });

  it.each([
    ["dev", /only stacks named ephemeral-\*/],
    ["prod", /only stacks named ephemeral-\*/],
    ["my-ephemeral-x", /only stacks named ephemeral-\*/],
    ["ephemeral-", /1-25 characters/],
    ["ephemeral-Upper", /1-25 characters/],
    ["ephemeral-a/b", /1-25 characters/],
    ["ephemeral-x-", /1-25 characters/],
    ["ephemeral-" + "a".repeat(26), /1-25 characters/],
  ])("refuses %s", (name, reason) => {
    expect(stackNameProblem(name)).toMatch(reason);
    expect(() => namePrefixFor(name)).toThrow(reason);
  });

  it("accepts names up to the limit", () => {
    expect(stackNameProblem("ephemeral-a")).toBeUndefined();
    expect(stackNameProblem("ephemeral-" + "a".repeat(25))).toBeUndefined();
  });
});

describe("ephemeral config", () => {
  it("is small, deletable, and valid for the program's own config parser", () => {
    const name = "ephemeral-pr-12-abc123";
    const config = ephemeralConfig({ stackName: name, region: "eu-central-1", image: "123.dkr.ecr/parley:sha" });
    expect(config["aws:region"]).toEqual({ value: "eu-central-1" });
    expect(config["parley:deletionProtection"]).toEqual({ value: "false" });
    expect(config["parley:gatewayImage"]).toEqual({ value: "123.dkr.ecr/parley:sha" });
    expect(config["parley:namePrefix"]).toEqual({ value: "eph-pr-12-abc123" });

    const raw: RawConfig = {};
    for (const [key, { value }] of Object.entries(config)) {
      if (key.startsWith("parley:")) raw[key.slice("parley:".length) as keyof RawConfig] = value;
    }
    const parsed = parseConfig(raw, { project: "parley", stack: name });
    expect(parsed.deletionProtection).toBe(false);
    expect(parsed.gateway.cpu).toBe(256);
    expect(parsed.gateway.image).toBe("123.dkr.ecr/parley:sha");
  });

  it("leaves the image to the program when none is given", () => {
    expect(ephemeralConfig({ stackName: "ephemeral-x", region: "us-east-1" })).not.toHaveProperty(
      "parley:gatewayImage",
    );
  });
});

describe("parseArgs", () => {
  const env = { GITHUB_REF: "refs/pull/9/merge", AWS_REGION: "ap-south-1" };

  it("reads --diff and --policy-pack", () => {
    expect(parseArgs(["preview", "--diff", "--policy-pack", "policy"], {})).toMatchObject({
      command: "preview",
      diff: true,
      policyPack: "policy",
    });
    expect(parseArgs(["preview"], {})).toMatchObject({ diff: false, policyPack: undefined });
  });

  it("derives the name and region from the CI environment", () => {
    const a = parseArgs(["up"], env);
    expect(a).toMatchObject({ command: "up", keep: false, region: "ap-south-1", timeoutMs: 40 * 60_000 });
    expect(a.stackName).toMatch(/^ephemeral-pr-9-[a-z0-9]{6}$/);
  });

  it("reads every option, in both --flag value and --flag=value forms", () => {
    expect(
      parseArgs(
        [
          "up",
          "--name=ephemeral-mine",
          "--keep",
          "--region",
          "us-west-2",
          "--image",
          "repo:tag",
          "--timeout-minutes",
          "1.5",
        ],
        {},
      ),
    ).toEqual({
      command: "up",
      stackName: "ephemeral-mine",
      keep: true,
      region: "us-west-2",
      image: "repo:tag",
      timeoutMs: 90_000,
      diff: false,
    });
  });

  it.each([
    [[], /no command/],
    [["deploy"], /unknown command "deploy"/],
    [["up", "--name", "prod"], /refusing stack "prod"/],
    [["preview", "--name", "ephemeral-UPPER"], /refusing stack/],
    [["destroy"], /destroy needs --name/],
    [["destroy", "--name", "ephemeral-x", "--keep"], /--keep contradicts destroy/],
    [["up", "--name"], /--name needs a value/],
    [["up", "--name", "--keep"], /--name needs a value/],
    [["up", "--name", "ephemeral-a", "--name", "ephemeral-b"], /given twice/],
    [["up", "--force"], /^unknown option --force$/],
    [["up", "extra"], /unexpected argument "extra"/],
    [["up", "--region", "mars"], /not an AWS region/],
    [["up", "--timeout-minutes", "0"], /--timeout-minutes/],
    [["up", "--timeout-minutes", "soon"], /--timeout-minutes/],
    [["up", "--image", "a b"], /whitespace/],
    [["up", "--policy-pack", "my policy"], /whitespace/],
    [["destroy", "--name", "ephemeral-x", "--diff"], /apply to preview and up, not destroy/],
  ])("rejects %j", (argv, message) => {
    expect(() => parseArgs(argv as string[], env)).toThrow(UsageError);
    expect(() => parseArgs(argv as string[], env)).toThrow(message);
  });
});

describe("runEphemeral", () => {
  it("uses distinct exit codes", () => {
    const codes = Object.values(exitCodes);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it("up: configures, deploys, smoke-tests the appUrl, then destroys and removes", async () => {
    const h = harness({
      behave: {
        up: async (engine) => {
          engine?.onOutput("Updating (ephemeral-test)\n");
          return { outputs: { appUrl: { value: "http://app.test" } } };
        },
      },
    });
    const outcome = await runEphemeral(args({ image: "img:1" }), h.deps);
    expect(h.calls).toEqual([
      "open ephemeral-test create=true",
      "setAllConfig",
      "up",
      "preview",
      "smoke http://app.test",
      "destroy",
      "remove",
    ]);
    expect(outcome).toMatchObject({ exitCode: 0, tornDown: true, appUrl: "http://app.test", failures: [] });
    expect(h.config()).toMatchObject({
      "aws:region": { value: "eu-west-1" },
      "parley:deletionProtection": { value: "false" },
      "parley:gatewayImage": { value: "img:1" },
    });
    expect(h.written).toEqual(["Updating (ephemeral-test)\n"]);
  });

  it("up: a second preview right after up expects no changes (idempotency), with a diff", async () => {
    const h = harness();
    await runEphemeral(args(), h.deps);
    expect(h.engineCalls.map((c) => c.op)).toEqual(["up", "preview", "destroy"]);
    expect(h.engineCalls[1]!.options).toMatchObject({ diff: true, expectNoChanges: true });
    expect(h.engineCalls[0]!.options.expectNoChanges).toBeUndefined();
  });

  it("up: a second preview that shows changes fails with exit 9, skips the smoke test, and tears down", async () => {
    const h = harness({
      behave: {
        preview: async (engine) => {
          if ((engine as PreviewRequest | undefined)?.expectNoChanges) {
            throw new Error("no changes were expected but changes were proposed: ~ gateway-service update");
          }
          return {};
        },
      },
    });
    const outcome = await runEphemeral(args(), h.deps);
    expect(h.calls).toEqual(["open ephemeral-test create=true", "setAllConfig", "up", "preview", "destroy", "remove"]);
    expect(outcome.exitCode).toBe(exitCodes.idempotency);
    expect(outcome.failures).toEqual([
      { phase: "idempotency", message: "no changes were expected but changes were proposed: ~ gateway-service update" },
    ]);
    expect(outcome.tornDown).toBe(true);
  });

  it("--diff and --policy-pack reach preview and up; without them preview runs plain", async () => {
    const plain = harness();
    await runEphemeral(args({ command: "preview" }), plain.deps);
    expect(plain.engineCalls[0]!.options).toMatchObject({ diff: false });
    expect(plain.engineCalls[0]!.options.policyPacks).toBeUndefined();

    const checked = harness();
    await runEphemeral(args({ diff: true, policyPack: "policy" }), checked.deps);
    const [up, again] = checked.engineCalls;
    expect(up).toMatchObject({ op: "up", options: { diff: true, policyPacks: ["policy"] } });
    expect(again).toMatchObject({
      op: "preview",
      options: { diff: true, expectNoChanges: true, policyPacks: ["policy"] },
    });
  });

  it("preview: previews, then removes the stack it created", async () => {
    const h = harness();
    const outcome = await runEphemeral(args({ command: "preview" }), h.deps);
    expect(h.calls).toEqual(["open ephemeral-test create=true", "setAllConfig", "preview", "remove"]);
    expect(outcome.exitCode).toBe(0);
  });

  it("preview: leaves a stack that existed before the run", async () => {
    const h = harness({ created: false });
    const outcome = await runEphemeral(args({ command: "preview" }), h.deps);
    expect(h.calls).toEqual(["open ephemeral-test create=true", "setAllConfig", "preview"]);
    expect(outcome.exitCode).toBe(0);
  });

  it("preview error: exit 4, and the stack is still removed", async () => {
    const h = harness({ behave: { preview: fail("provider misconfigured") } });
    const outcome = await runEphemeral(args({ command: "preview" }), h.deps);
    expect(h.calls.slice(-2)).toEqual(["preview", "remove"]);
    expect(outcome.exitCode).toBe(exitCodes.preview);
    expect(outcome.failures).toEqual([{ phase: "preview", message: "provider misconfigured" }]);
    expect(h.lines.join("\n")).toMatch(/preview FAILED: provider misconfigured/);
  });

  it("up error: exit 5, no smoke, and the partial stack is destroyed and removed", async () => {
    const h = harness({ behave: { up: fail("creating ALB: AccessDenied") } });
    const outcome = await runEphemeral(args(), h.deps);
    expect(h.calls).toEqual(["open ephemeral-test create=true", "setAllConfig", "up", "destroy", "remove"]);
    expect(outcome.exitCode).toBe(exitCodes.up);
    expect(outcome.tornDown).toBe(true);
  });

  it("smoke failure: exit 6, and the stack is destroyed and removed", async () => {
    const h = harness({ smoke: fail("step exchange: timed out") });
    const outcome = await runEphemeral(args(), h.deps);
    expect(h.calls.slice(-3)).toEqual(["smoke http://app.test", "destroy", "remove"]);
    expect(outcome.exitCode).toBe(exitCodes.smoke);
    expect(outcome.failures[0]?.message).toBe("step exchange: timed out");
  });

  it("a stack without an appUrl output fails the smoke phase and is torn down", async () => {
    const h = harness({ behave: { up: async () => ({ outputs: { other: { value: 1 } } }) } });
    const outcome = await runEphemeral(args(), h.deps);
    expect(h.calls).toEqual(["open ephemeral-test create=true", "setAllConfig", "up", "preview", "destroy", "remove"]);
    expect(outcome.exitCode).toBe(exitCodes.smoke);
    expect(outcome.failures[0]?.message).toMatch(/no appUrl output \(outputs: other\)/);
  });

  it("timeout during up: interrupts the update (SIGINT via the signal), then destroys; exit 8", async () => {
    const h = harness({ behave: { up: untilAborted } });
    const outcome = await runEphemeral(args({ timeoutMs: 40 }), h.deps);
    expect(h.signals.up?.aborted).toBe(true);
    expect(h.calls).toEqual(["open ephemeral-test create=true", "setAllConfig", "up", "destroy", "remove"]);
    expect(h.signals.destroy?.aborted).toBe(false);
    expect(outcome.exitCode).toBe(exitCodes.timeout);
    expect(outcome.failures).toEqual([{ phase: "timeout", message: "timed out after 40 ms during up" }]);
  });

  it("timeout with an update that ignores SIGINT: cancels it on the backend, then destroys", async () => {
    let release: () => void = () => undefined;
    const h = harness({
      behave: {
        up: () => new Promise((_, reject) => (release = () => reject(new Error("update canceled")))),
        cancel: async () => release(),
      },
    });
    const outcome = await runEphemeral(args({ timeoutMs: 40 }), h.deps);
    expect(h.calls).toEqual(["open ephemeral-test create=true", "setAllConfig", "up", "cancel", "destroy", "remove"]);
    expect(outcome.exitCode).toBe(exitCodes.timeout);
  });

  it("timeout with an update that never stops still tears down", async () => {
    const h = harness({ behave: { up: () => new Promise(() => undefined), cancel: fail("no update in progress") } });
    const outcome = await runEphemeral(args({ timeoutMs: 40 }), h.deps);
    expect(h.calls.slice(-3)).toEqual(["cancel", "destroy", "remove"]);
    expect(h.lines.join("\n")).toMatch(/cancel failed: no update in progress/);
    expect(h.lines.join("\n")).toMatch(/up has not stopped; tearing down anyway/);
    expect(outcome.exitCode).toBe(exitCodes.timeout);
  });

  it("timeout during the smoke test aborts it and tears down", async () => {
    const h = harness({
      smoke: (_url, signal) =>
        new Promise((_, reject) => signal.addEventListener("abort", () => reject(new Error("aborted")))),
    });
    const outcome = await runEphemeral(args({ timeoutMs: 40 }), h.deps);
    expect(h.signals.smoke?.aborted).toBe(true);
    expect(h.calls).not.toContain("cancel");
    expect(h.calls.slice(-2)).toEqual(["destroy", "remove"]);
    expect(outcome.failures).toEqual([{ phase: "timeout", message: "timed out after 40 ms during smoke" }]);
    expect(outcome.exitCode).toBe(exitCodes.timeout);
  });

  it("destroy failure: exit 7, even when an earlier phase failed too", async () => {
    const ok = harness({ behave: { destroy: fail("DependencyViolation") } });
    const okOutcome = await runEphemeral(args(), ok.deps);
    expect(okOutcome.exitCode).toBe(exitCodes.destroy);
    expect(ok.calls).not.toContain("remove");
    expect(ok.lines.join("\n")).toMatch(/retry with: npm run stack:ephemeral -- destroy --name ephemeral-test/);

    const both = harness({ behave: { up: fail("boom"), destroy: fail("DependencyViolation") } });
    const bothOutcome = await runEphemeral(args(), both.deps);
    expect(bothOutcome.exitCode).toBe(exitCodes.destroy);
    expect(bothOutcome.failures.map((f) => f.phase)).toEqual(["up", "destroy"]);
    expect(bothOutcome.tornDown).toBe(false);
  });

  it("a teardown that hangs is aborted at its own deadline and reported as a destroy failure", async () => {
    const h = harness({ behave: { destroy: untilAborted } });
    const outcome = await runEphemeral(args(), h.deps);
    expect(h.signals.destroy?.aborted).toBe(true);
    expect(outcome.exitCode).toBe(exitCodes.destroy);
    expect(outcome.failures).toEqual([{ phase: "destroy", message: "teardown timed out after 200 ms" }]);
  });

  it("a failed remove after a successful destroy is a destroy failure", async () => {
    const h = harness({ behave: { remove: fail("stack still has resources") } });
    const outcome = await runEphemeral(args(), h.deps);
    expect(outcome.exitCode).toBe(exitCodes.destroy);
  });

  it("--keep: no teardown after success or failure", async () => {
    const ok = harness();
    expect((await runEphemeral(args({ keep: true }), ok.deps)).exitCode).toBe(0);
    expect(ok.calls).toEqual([
      "open ephemeral-test create=true",
      "setAllConfig",
      "up",
      "preview",
      "smoke http://app.test",
    ]);
    expect(ok.lines.join("\n")).toMatch(/destroy --name ephemeral-test/);

    const failed = harness({ behave: { up: fail("boom") } });
    expect((await runEphemeral(args({ keep: true }), failed.deps)).exitCode).toBe(exitCodes.up);
    expect(failed.calls).not.toContain("destroy");
    expect(failed.calls).not.toContain("remove");

    const preview = harness();
    await runEphemeral(args({ command: "preview", keep: true }), preview.deps);
    expect(preview.calls).not.toContain("remove");
  });

  it.each(["prod", "dev", "ephemeral-", "Ephemeral-x"])("refuses %s before opening anything (exit 2)", async (name) => {
    const h = harness({ name });
    const outcome = await runEphemeral(args({ stackName: name }), h.deps);
    expect(outcome.exitCode).toBe(exitCodes.usage);
    expect(h.calls).toEqual([]);
  });

  it("refuses to operate on a stack the workspace opened under another name", async () => {
    const h = harness({ name: "prod" });
    const outcome = await runEphemeral(args(), h.deps);
    expect(h.calls).toEqual(["open ephemeral-test create=true"]);
    expect(outcome.exitCode).toBe(exitCodes.setup);
  });

  it("setup failure (no CLI, no backend login): exit 3 and nothing to tear down", async () => {
    const h = harness({ openError: new Error("spawn pulumi ENOENT") });
    const outcome = await runEphemeral(args(), h.deps);
    expect(h.calls).toEqual(["open ephemeral-test create=true"]);
    expect(outcome).toMatchObject({
      exitCode: exitCodes.setup,
      failures: [{ phase: "setup", message: "spawn pulumi ENOENT" }],
    });
  });

  it("a config failure after opening still removes the new stack", async () => {
    const h = harness({ behave: { setAllConfig: fail("invalid key") } });
    const outcome = await runEphemeral(args(), h.deps);
    expect(h.calls).toEqual(["open ephemeral-test create=true", "setAllConfig", "destroy", "remove"]);
    expect(outcome.exitCode).toBe(exitCodes.setup);
  });

  it("destroy: selects the existing stack, keeps its config, destroys and removes it", async () => {
    const h = harness({ created: false });
    const outcome = await runEphemeral(args({ command: "destroy" }), h.deps);
    expect(h.calls).toEqual(["open ephemeral-test create=false", "destroy", "remove"]);
    expect(outcome).toMatchObject({ exitCode: 0, tornDown: true });
  });

  it("destroy: a failure or a timeout exits 7", async () => {
    const failed = harness({ behave: { destroy: fail("DependencyViolation") } });
    expect((await runEphemeral(args({ command: "destroy" }), failed.deps)).exitCode).toBe(exitCodes.destroy);
    expect(failed.calls).not.toContain("remove");

    const slow = harness({ behave: { destroy: untilAborted } });
    const outcome = await runEphemeral(args({ command: "destroy", timeoutMs: 40 }), slow.deps);
    expect(outcome.exitCode).toBe(exitCodes.destroy);
    expect(outcome.failures[0]?.message).toBe("timed out after 40 ms during destroy");
    expect(slow.signals.destroy?.aborted).toBe(true);
  });
});
