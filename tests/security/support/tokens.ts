import { spawnSync } from "node:child_process";
import { env } from "../../../runtime/contracts";
import { repoRoot } from "../../../runtime/local/processes";

export type TokenMatrix = Record<
  | "valid"
  | "expired"
  | "algNone"
  | "wrongKey"
  | "wrongAudience"
  | "wrongIssuer"
  | "otherAlgorithm"
  | "notYetValid"
  | "noExpiry"
  | "badSubject"
  | "tamperedPayload",
  string
>;

/** Tokens for `subject`, minted with jose in a tsx child process (see mint-tokens.ts). */
export function mintTokenMatrix(secret: string, subject: string): TokenMatrix {
  const out = spawnSync(process.execPath, ["--import", "tsx", "tests/security/support/mint-tokens.ts"], {
    cwd: repoRoot,
    env: { ...process.env, NODE_NO_WARNINGS: "1", [env.jwtSecret]: secret, MINT_SUBJECT: subject },
    encoding: "utf8",
    timeout: 60_000,
  });
  if (out.status !== 0) throw new Error(`minting tokens failed: ${out.stderr}`);
  return JSON.parse(out.stdout) as TokenMatrix;
}
