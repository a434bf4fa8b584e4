/** Command-line parsing for `npm run stack:ephemeral`; every mistake is a UsageError (exit code 2). */
import { deriveStackName, stackNameProblem, type CiEnv } from "./names";

export const commands = ["up", "preview", "destroy"] as const;
export type EphemeralCommand = (typeof commands)[number];

export interface EphemeralArgs {
  readonly command: EphemeralCommand;
  readonly stackName: string;
  /** Leave the stack (and its resources) in place after `up` or `preview`. */
  readonly keep: boolean;
  readonly region: string;
  readonly image?: string;
  /** Deadline for everything before teardown; teardown has its own. */
  readonly timeoutMs: number;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export const usage = `usage: npm run stack:ephemeral -- <up|preview|destroy> [--name ephemeral-<name>] [--keep]
         [--region <aws-region>] [--image <gateway image uri>] [--timeout-minutes <n>]

  preview   preview a new ephemeral stack, then remove it (unless --keep)
  up        deploy, run the smoke test against the stack's appUrl, then destroy and remove (unless --keep)
  destroy   destroy and remove an existing ephemeral stack (--name required)

  --name defaults to ephemeral-<pr-N | branch | user>-<random>; any name must start with "ephemeral-".`;

export const DEFAULT_TIMEOUT_MINUTES = 40;
const MAX_TIMEOUT_MINUTES = 24 * 60;
const REGION = /^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/;

export function parseArgs(argv: readonly string[], env: CiEnv): EphemeralArgs {
  const [command, ...rest] = argv;
  if (command === undefined || command === "--help" || command === "-h") throw new UsageError("no command given");
  if (!(commands as readonly string[]).includes(command)) {
    throw new UsageError(`unknown command "${command}", expected one of ${commands.join(", ")}`);
  }
  const values = new Map<string, string>();
  let keep = false;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] as string;
    if (arg === "--keep") {
      keep = true;
      continue;
    }
    const [flag, inline] = arg.includes("=")
      ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
      : [arg];
    if (!["--name", "--region", "--image", "--timeout-minutes"].includes(flag as string)) {
      throw new UsageError(`unknown argument "${arg}"`);
    }
    const value = inline ?? rest[++i];
    if (value === undefined || value === "" || (inline === undefined && value.startsWith("--"))) {
      throw new UsageError(`${flag} needs a value`);
    }
    if (values.has(flag as string)) throw new UsageError(`${flag} given twice`);
    values.set(flag as string, value);
  }

  const cmd = command as EphemeralCommand;
  const explicitName = values.get("--name");
  if (cmd === "destroy" && explicitName === undefined) {
    throw new UsageError("destroy needs --name: a derived name has a random suffix and would match no stack");
  }
  if (cmd === "destroy" && keep) throw new UsageError("--keep contradicts destroy");
  const stackName = explicitName ?? deriveStackName(env);
  const problem = stackNameProblem(stackName);
  if (problem) throw new UsageError(problem);

  const region = values.get("--region") ?? (env.AWS_REGION || env.AWS_DEFAULT_REGION || "us-east-1");
  if (!REGION.test(region)) throw new UsageError(`--region "${region}" is not an AWS region name`);

  const image = values.get("--image");
  if (image !== undefined && /\s/.test(image)) throw new UsageError(`--image "${image}" contains whitespace`);

  const minutesRaw = values.get("--timeout-minutes");
  const minutes = minutesRaw === undefined ? DEFAULT_TIMEOUT_MINUTES : Number(minutesRaw);
  if (!Number.isFinite(minutes) || minutes <= 0 || minutes > MAX_TIMEOUT_MINUTES) {
    throw new UsageError(`--timeout-minutes must be a number in (0, ${MAX_TIMEOUT_MINUTES}], got "${minutesRaw}"`);
  }

  return { command: cmd, stackName, keep, region, image, timeoutMs: Math.round(minutes * 60_000) };
}
