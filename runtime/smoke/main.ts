/**
 * `npm run smoke -- [baseUrl] [--peer-url url] [--timeout-ms n] [--ready-timeout-ms n]`: exits 0 when the stack
 * works, 1 with `step <name>: <reason>` when it does not, 2 on a usage error. Without a URL it tests the stack a
 * running `npm start` describes in its state file (the second gateway as the peer, when there is one).
 */
import { CliError, defineCli, httpUrl, int, parseCli, runCli, UsageError } from "../cli/args";
import { noLocalStackHint, readStackState } from "../local/state-file";
import { runSmoke, smokeDefaults, SmokeStepError } from "./smoke";

export const smokeCli = defineCli({
  command: "npm run smoke --",
  args: "[baseUrl]",
  maxPositionals: 1,
  positionals: [["baseUrl", "the stack's URL, e.g. http://localhost:8080 (default: the running npm start's)"]],
  options: {
    "peer-url": {
      type: "string",
      value: "url",
      description: "URL the second user talks to (another gateway of the same stack)",
      defaultText: "the running npm start's second gateway, else baseUrl",
      parse: httpUrl,
    },
    "timeout-ms": {
      type: "string",
      value: "ms",
      description: "deadline for each request and awaited frame",
      default: smokeDefaults.timeoutMs,
      parse: int(0),
    },
    "ready-timeout-ms": {
      type: "string",
      value: "ms",
      description: "how long the health step retries (0 = fail at once)",
      default: smokeDefaults.readyTimeoutMs,
      parse: int(0),
    },
    data: {
      type: "string",
      value: "dir",
      description: "data folder of the running npm start, read when no baseUrl is given",
      defaultText: "data/",
    },
  },
  notes: "Exit codes: 0 passed, 1 a step failed (named in the message) or no stack to test, 2 usage.",
});

export interface SmokeCliArgs {
  /** Undefined: the running `npm start`'s first gateway. */
  readonly baseUrl?: string;
  readonly peerUrl?: string;
  readonly timeoutMs?: number;
  readonly readyTimeoutMs?: number;
  readonly dataDir?: string;
}

export function parseSmokeArgs(argv: readonly string[]): SmokeCliArgs {
  const { values, positionals } = parseCli(smokeCli, argv);
  const baseUrl = positionals[0] === undefined ? undefined : httpUrl(positionals[0], "the base URL");
  return {
    baseUrl,
    peerUrl: values["peer-url"],
    timeoutMs: values["timeout-ms"],
    readyTimeoutMs: values["ready-timeout-ms"],
    dataDir: values.data,
  };
}

/** The URLs to test: the given ones, else the running local stack's gateways. */
export function smokeTargets(args: SmokeCliArgs): { baseUrl: string; peerUrl?: string } {
  if (args.baseUrl !== undefined) return { baseUrl: args.baseUrl, peerUrl: args.peerUrl };
  const gateways = readStackState(args.dataDir)?.gateways ?? [];
  const [first, second] = gateways;
  if (!first) throw new CliError(noLocalStackHint("a gateway URL: npm run smoke -- http://localhost:8080"));
  return { baseUrl: first.url, peerUrl: args.peerUrl ?? second?.url };
}

async function main(): Promise<number> {
  const args = parseSmokeArgs(process.argv.slice(2));
  const { baseUrl, peerUrl } = smokeTargets(args);
  try {
    await runSmoke(baseUrl, {
      peerUrl,
      timeoutMs: args.timeoutMs,
      readyTimeoutMs: args.readyTimeoutMs,
      log: (line) => console.log(line),
    });
    return 0;
  } catch (err) {
    if (!(err instanceof SmokeStepError)) throw err;
    // The documented failure line (docs/ephemeral-stacks.md), without runCli's "smoke:" prefix.
    console.error(`smoke test FAILED: ${err.message}`);
    return 1;
  }
}

if (require.main === module) void runCli("smoke", main);

export { UsageError };
