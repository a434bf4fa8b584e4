/**
 * The Automation API runs `pulumi` from PATH and, without it, fails deep inside opening the stack with
 * `spawn pulumi ENOENT`. Looking first turns that into one line saying what to install.
 */
import { accessSync, constants, statSync } from "node:fs";
import path from "node:path";

export const PULUMI_INSTALL = "curl -fsSL https://get.pulumi.com | sh";

export const missingPulumiMessage = (): string =>
  `the Pulumi CLI is required but \`pulumi\` is not on PATH — install it with \`${PULUMI_INSTALL}\` ` +
  "(then open a new shell), see docs/deploy.md";

/** The executable `command` resolves to on PATH, or undefined. */
export function findOnPath(
  command: string,
  env: Record<string, string | undefined> = process.env,
  platform: NodeJS.Platform = process.platform,
): string | undefined {
  const exts = platform === "win32" ? (env.PATHEXT ?? ".EXE;.CMD;.BAT").split(";") : [""];
  for (const dir of (env.PATH ?? "").split(path.delimiter)) {
    if (!dir) continue;
    for (const ext of exts) {
      const candidate = path.join(dir, command + ext);
      try {
        if (!statSync(candidate).isFile()) continue;
        accessSync(candidate, constants.X_OK);
        return candidate;
      } catch {
        // not here; keep looking
      }
    }
  }
  return undefined;
}
