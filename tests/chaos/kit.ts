/**
 * What every chaos scenario shares: one local stack (real fauxqs, dynalite on disk so it can be restarted
 * without losing data, the real persister runner process), clients pointed at it, and the result shape the
 * table in `npm run test:chaos` and docs/operations.md are made of.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { startLocalStack, type LocalStack, type LocalStackOptions } from "../../runtime/local/stack";
import type { Db } from "../../runtime/store/db";
import { awsClients } from "../support/emulated";

export interface ChaosContext {
  readonly stack: LocalStack;
  readonly sqs: SQSClient;
  readonly db: Db;
  readonly random: () => number;
  readonly log: (line: string) => void;
  close(): Promise<void>;
}

export interface ScenarioResult {
  readonly scenario: string;
  readonly rounds: number;
  /** Messages the scenario sent that must be stored (accepted). */
  readonly messages: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly reordered: number;
  /** Bad input that was stored or accepted (poison stored, a frame that should have been refused…). */
  readonly acceptedBadInput: number;
  /** Per disruption: time until the system made progress again. */
  readonly recoveryMs: readonly number[];
  /** Anything else that went wrong (gaps in seq, leftovers in a DLQ, …); empty when the scenario passed. */
  readonly failures: readonly string[];
  readonly notes: string;
}

export const passed = (r: ScenarioResult): boolean =>
  r.lost === 0 && r.duplicated === 0 && r.reordered === 0 && r.acceptedBadInput === 0 && r.failures.length === 0;

export async function startChaosContext(
  opts: { random: () => number; log?: (line: string) => void } & Pick<LocalStackOptions, "gatewayEnv" | "gateways">,
): Promise<ChaosContext> {
  // On disk, not in memory: restarting an in-memory emulator would lose every table. On tmpfs where there is
  // one: DynamoDB Local's SQLite syncs every write, which on a real disk makes it 2–3× slower than in memory.
  const dataDir = mkdtempSync(path.join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "parley-chaos-"));
  const stack = await startLocalStack({
    gateways: opts.gateways ?? 0,
    dataDir,
    visibilityTimeoutSeconds: { inbound: 2 },
    gatewayEnv: opts.gatewayEnv,
  });
  const clients = awsClients(stack.aws, stack.provisioned.tableNames);
  return {
    stack,
    sqs: clients.sqs,
    db: clients.db,
    random: opts.random,
    log: opts.log ?? (() => undefined),
    close: async () => {
      clients.destroy();
      await stack.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const pct = (xs: readonly number[], p: number) => {
  if (!xs.length) return "–";
  const sorted = [...xs].sort((a, b) => a - b);
  return `${sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]}`;
};

export function recoverySummary(ms: readonly number[]): string {
  if (!ms.length) return "–";
  return `p50 ${pct(ms, 50)} / max ${Math.max(...ms)} ms`;
}

/** A Markdown table: the same text goes to the terminal and into docs/operations.md. */
export function formatTable(results: readonly ScenarioResult[]): string {
  const header = [
    "scenario",
    "rounds",
    "messages",
    "lost",
    "duplicated",
    "reordered",
    "accepted-bad-input",
    "recovery",
    "result",
  ];
  const rows = results.map((r) => [
    r.scenario,
    String(r.rounds),
    String(r.messages),
    String(r.lost),
    String(r.duplicated),
    String(r.reordered),
    String(r.acceptedBadInput),
    recoverySummary(r.recoveryMs),
    passed(r) ? "pass" : `FAIL: ${r.failures.join("; ") || "non-zero counts"}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
