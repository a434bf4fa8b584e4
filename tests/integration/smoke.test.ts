/**
 * The smoke test that gates ephemeral cloud stacks, run for real against the local stack: emulators,
 * persister runner and two gateway processes. The same code then proves it fails, naming the step,
 * once the persister is down and once the whole stack is stopped.
 */
import { startLocalStack, type LocalStack } from "../../runtime/local/stack";
import { runSmoke, SmokeStepError, smokeSteps } from "../../runtime/smoke/smoke";
import { runCommand } from "../support/commands";

/** `npm run smoke -- <args>`, as typed. */
const smokeCli = (args: string[]) => runCommand(`npm run smoke -- ${args.join(" ")}`);

describe("smoke test against the local stack", () => {
  let stack: LocalStack | undefined;

  beforeAll(async () => {
    stack = await startLocalStack({ gateways: 2, inMemory: true });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it("passes, with the two users on different gateways", async () => {
    const local = stack as LocalStack;
    const lines: string[] = [];
    const result = await runSmoke(local.url, {
      peerUrl: local.gateways[1]?.url,
      log: (line) => lines.push(line),
      timeoutMs: 15_000,
    });
    expect(result.steps.map((s) => s.name)).toEqual([...smokeSteps]);
    expect(result.messageCount).toBe(6);
    expect(result.gatewayIds).toEqual(["gw-1", "gw-2"]);
    expect(result.conversationId).toBe(`d:${result.userIds[0]}:${result.userIds[1]}`);
    expect(lines.at(-1)).toMatch(/^smoke test passed in \d+ ms \(6 messages in d:smoke_/);
    // Tokens are JWTs ("eyJ…"); passwords never leave the signup/login bodies.
    expect(lines.join("\n")).not.toMatch(/eyJ|password/i);
  }, 60_000);

  it("passes through the CLI (npm run smoke), exit code 0", async () => {
    const local = stack as LocalStack;
    const { code, stdout, stderr } = await smokeCli([local.url]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    expect(stdout).toMatch(/step close: ok/);
  }, 60_000);

  it("fails at exchange, saying the message was never stored, when the persister is down", async () => {
    const local = stack as LocalStack;
    await local.runner?.stop();
    const failure = await runSmoke(local.url, { timeoutMs: 3_000 }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(SmokeStepError);
    expect((failure as SmokeStepError).step).toBe("exchange");
    expect((failure as Error).message).toMatch(
      /^step exchange: timed out after 3000 ms waiting for message smoke-\w+-a1 on smoke_\w+_b's socket \(not in history; the sender's socket did not get it\)$/,
    );
  }, 30_000);

  it("fails fast against the stopped stack, naming the step and the reason", async () => {
    const local = stack as LocalStack;
    const url = local.url;
    stack = undefined;
    await local.stop();

    const started = Date.now();
    const failure = await runSmoke(url, { timeoutMs: 10_000 }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(SmokeStepError);
    expect((failure as SmokeStepError).step).toBe("health");
    expect((failure as Error).message).toMatch(/^step health: GET \/healthz: connect ECONNREFUSED 127\.0\.0\.1:\d+$/);
    expect(Date.now() - started).toBeLessThan(3_000);

    const cli = await smokeCli([url]);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/smoke test FAILED: step health: GET \/healthz: connect ECONNREFUSED/);
  }, 30_000);
});
