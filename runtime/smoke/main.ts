/**
 * `npm run smoke -- <baseUrl> [--peer-url url] [--timeout-ms n] [--ready-timeout-ms n]`: exits 0 when the stack works,
 * 1 with `step <name>: <reason>` when it does not, 2 on a usage error.
 */
import { runSmoke, SmokeStepError } from "./smoke";

const usage = "usage: npm run smoke -- <baseUrl> [--peer-url <url>] [--timeout-ms <ms>] [--ready-timeout-ms <ms>]";

export interface SmokeCliArgs {
  readonly baseUrl: string;
  readonly peerUrl?: string;
  readonly timeoutMs?: number;
  readonly readyTimeoutMs?: number;
}

export function parseSmokeArgs(argv: readonly string[]): SmokeCliArgs {
  let baseUrl: string | undefined;
  let timeoutMs: number | undefined;
  let readyTimeoutMs: number | undefined;
  let peerUrl: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--timeout-ms" || arg === "--ready-timeout-ms") {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 0) throw new Error(`${arg} needs a whole number of milliseconds`);
      if (arg === "--timeout-ms") timeoutMs = n;
      else readyTimeoutMs = n;
    } else if (arg === "--peer-url") {
      peerUrl = argv[++i];
      if (!peerUrl) throw new Error("--peer-url needs a URL");
    } else if (arg.startsWith("-")) {
      throw new Error(`unknown option ${arg}`);
    } else if (baseUrl === undefined) {
      baseUrl = arg;
    } else {
      throw new Error(`unexpected argument ${arg}`);
    }
  }
  if (!baseUrl) throw new Error("the base URL is required");
  return { baseUrl, peerUrl, timeoutMs, readyTimeoutMs };
}

async function main(): Promise<number> {
  let args: SmokeCliArgs;
  try {
    args = parseSmokeArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`${(err as Error).message}\n${usage}`);
    return 2;
  }
  try {
    await runSmoke(args.baseUrl, { ...args, log: (line) => console.log(line) });
    return 0;
  } catch (err) {
    console.error(err instanceof SmokeStepError ? `smoke test FAILED: ${err.message}` : err);
    return 1;
  }
}

if (require.main === module) {
  void main().then((code) => {
    process.exitCode = code;
  });
}
