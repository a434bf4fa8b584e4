/** Command-line parsing for `npm run stack:ephemeral`; every mistake is a UsageError (exit code 2). */
import { defineCli, num, parseCli, UsageError } from "../../runtime/cli/args";
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
  /** Detailed diffs in preview and up (`--diff`). */
  readonly diff: boolean;
  /** A policy pack folder run by preview and up (`--policy-pack`). */
  readonly policyPack?: string;
}

export { UsageError };

export const DEFAULT_TIMEOUT_MINUTES = 40;
const MAX_TIMEOUT_MINUTES = 24 * 60;
const REGION = /^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/;

function withoutWhitespace(raw: string, flag: string): string {
  if (/\s/.test(raw)) throw new UsageError(`${flag} "${raw}" contains whitespace`);
  return raw;
}

export const ephemeralCli = defineCli({
  command: "npm run stack:ephemeral --",
  args: `<${commands.join("|")}>`,
  maxPositionals: 1,
  positionals: [
    ["preview", "preview a new ephemeral stack, then remove it (unless --keep)"],
    [
      "up",
      "deploy, check a second preview proposes no changes, run the smoke test against the stack's appUrl, then " +
        "destroy and remove (unless --keep)",
    ],
    ["destroy", "destroy and remove an existing ephemeral stack (--name required)"],
  ],
  options: {
    name: {
      type: "string",
      value: "name",
      description: 'stack name; any name must start with "ephemeral-"',
      defaultText: "ephemeral-<pr-N | branch | user>-<random>",
    },
    keep: { type: "boolean", description: "leave the stack (and its resources) in place after up or preview" },
    region: {
      type: "string",
      value: "aws-region",
      description: "AWS region to deploy to",
      defaultText: "$AWS_REGION, else $AWS_DEFAULT_REGION, else us-east-1",
      parse: (raw, flag) => {
        if (!REGION.test(raw)) throw new UsageError(`${flag} "${raw}" is not an AWS region name`);
        return raw;
      },
    },
    image: {
      type: "string",
      value: "gateway image uri",
      description: "prebuilt gateway image; without it the program builds the repo's Dockerfile (needs Docker)",
      defaultText: "build from the Dockerfile",
      parse: withoutWhitespace,
    },
    diff: { type: "boolean", description: "print detailed diffs in preview and up (pulumi --diff)" },
    "policy-pack": {
      type: "string",
      value: "dir",
      description: "run this policy pack in preview and up (pulumi --policy-pack)",
      defaultText: "none",
      parse: withoutWhitespace,
    },
    "timeout-minutes": {
      type: "string",
      value: "n",
      description: "deadline for everything before teardown; teardown has its own",
      default: DEFAULT_TIMEOUT_MINUTES,
      parse: num(0, MAX_TIMEOUT_MINUTES, { exclusiveMin: true }),
    },
  },
  notes:
    "Needs the Pulumi CLI (docs/deploy.md). Exit codes: 0 done, 2 usage, 3 setup (no Pulumi CLI, not logged " +
    "in, no such stack), 4 preview, 5 up, 6 smoke, 7 destroy (cloud resources may remain), 8 timeout, 9 idempotency (changes after up); see " +
    "docs/ephemeral-stacks.md.",
});

export function parseArgs(argv: readonly string[], env: CiEnv): EphemeralArgs {
  const { values, positionals } = parseCli(ephemeralCli, argv);
  const [command] = positionals;
  if (command === undefined) throw new UsageError("no command given");
  if (!(commands as readonly string[]).includes(command)) {
    throw new UsageError(`unknown command "${command}", expected one of ${commands.join(", ")}`);
  }
  const cmd = command as EphemeralCommand;
  const keep = values.keep;
  const explicitName = values.name;
  if (cmd === "destroy" && explicitName === undefined) {
    throw new UsageError("destroy needs --name: a derived name has a random suffix and would match no stack");
  }
  if (cmd === "destroy" && keep) throw new UsageError("--keep contradicts destroy");
  const stackName = explicitName ?? deriveStackName(env);
  const problem = stackNameProblem(stackName);
  if (problem) throw new UsageError(problem);

  const region = values.region ?? (env.AWS_REGION || env.AWS_DEFAULT_REGION || "us-east-1");
  if (!REGION.test(region)) throw new UsageError(`region "${region}" (from the environment) is not an AWS region name`);

  const minutes = values["timeout-minutes"];
  if (cmd === "destroy" && (values.diff || values["policy-pack"] !== undefined)) {
    throw new UsageError("--diff and --policy-pack apply to preview and up, not destroy");
  }
  return {
    command: cmd,
    stackName,
    keep,
    region,
    image: values.image,
    timeoutMs: Math.round(minutes * 60_000),
    diff: values.diff,
    policyPack: values["policy-pack"],
  };
}
