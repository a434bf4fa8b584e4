/**
 * `npm run stack:ephemeral -- up|preview|destroy …`: wires the orchestration in scripts/ephemeral/
 * to the Pulumi Automation API (a LocalWorkspace over this repo, driving the Pulumi CLI) and to the
 * shared smoke test. Everything decidable without the CLI lives in scripts/ephemeral/ and is
 * unit-tested there; this file is only the wiring.
 */
import { appendFileSync } from "node:fs";
import * as path from "node:path";
import { LocalWorkspace, StackAlreadyExistsError, type Stack } from "@pulumi/pulumi/automation";
import { runSmoke } from "../runtime/smoke/smoke";
import { CliError, runCli } from "../runtime/cli/args";
import { parseArgs } from "./ephemeral/args";
import { findOnPath, missingPulumiMessage } from "./ephemeral/pulumi-cli";
import { exitCodes, runEphemeral } from "./ephemeral/run";
import type { EphemeralStack, OpenedStack } from "./ephemeral/types";

const workDir = path.resolve(__dirname, "..");

function adapt(stack: Stack): EphemeralStack {
  return {
    name: stack.name,
    setAllConfig: (config) => stack.setAllConfig(config),
    preview: (options) => stack.preview(options),
    up: (options) => stack.up(options),
    destroy: (options) => stack.destroy(options),
    cancel: () => stack.cancel(),
    remove: () => stack.workspace.removeStack(stack.name),
  };
}

/**
 * createStack then selectStack rather than createOrSelectStack: `preview` must know whether this run
 * created the stack, so it never removes one somebody kept on purpose.
 */
async function openStack(stackName: string, options: { create: boolean }): Promise<OpenedStack> {
  if (!options.create)
    return { stack: adapt(await LocalWorkspace.selectStack({ stackName, workDir })), created: false };
  try {
    return { stack: adapt(await LocalWorkspace.createStack({ stackName, workDir })), created: true };
  } catch (err) {
    if (!(err instanceof StackAlreadyExistsError)) throw err;
    return { stack: adapt(await LocalWorkspace.selectStack({ stackName, workDir })), created: false };
  }
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2), process.env);
  // Written first, so a CI cleanup step can find the stack even if this job is cancelled mid-run.
  if (process.env.GITHUB_OUTPUT) appendFileSync(process.env.GITHUB_OUTPUT, `stack-name=${args.stackName}\n`);
  if (!findOnPath("pulumi")) throw new CliError(missingPulumiMessage(), exitCodes.setup);
  const outcome = await runEphemeral(args, {
    openStack,
    runSmoke: (appUrl, options) => runSmoke(appUrl, { ...options, timeoutMs: 15_000 }),
    log: (line) => console.log(line),
    write: (chunk) => process.stdout.write(chunk),
  });
  return outcome.exitCode;
}

void runCli("stack:ephemeral", main);
