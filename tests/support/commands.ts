/**
 * Runs commands as a person types them: one command line through bash, in the repo unless told otherwise, so a
 * test runs exactly what the README says (tests/unit/readme-commands.test.ts holds the README to that).
 */
import { spawn } from "node:child_process";
import path from "node:path";

export const repoRoot = path.resolve(__dirname, "../..");

export interface CommandResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function runCommand(
  command: string,
  opts: { readonly cwd?: string; readonly env?: NodeJS.ProcessEnv } = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", ["-c", command], {
      cwd: opts.cwd ?? repoRoot,
      env: opts.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** What the script printed, without the two lines npm prints before running it (`> parley@… name`, `> cmd`). */
export const withoutNpmBanner = (stdout: string): string => stdout.replace(/^\n?> [^\n]*\n> [^\n]*\n\n?/, "");

/** A newcomer's shell: none of the variables jest or `npm test` set for the suite. */
export function newcomerEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const e = { ...base };
  for (const k of Object.keys(e)) if (k.startsWith("JEST") || k.startsWith("npm_")) delete e[k];
  delete e.NODE_ENV;
  delete e.NODE_NO_WARNINGS;
  delete e.NODE_OPTIONS;
  return e;
}
