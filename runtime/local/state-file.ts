/**
 * Where a running `npm start` says what it started, so `npm run dlq` and `npm run smoke` find the stack without
 * flags. Written when the stack is up, removed when it stops; a file whose process is gone counts as absent.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { repoRoot } from "./processes";

export const STATE_FILE_NAME = "local-stack.json";

/** The data folder `npm start` uses unless `--data` says otherwise. */
export const defaultDataDir = (): string => path.join(repoRoot, "data");

export interface LocalStackState {
  readonly v: 1;
  /** The `npm start` process; a state file whose pid is gone is stale. */
  readonly pid: number;
  readonly startedAt: string;
  readonly region: string;
  readonly sqsEndpoint: string;
  readonly dynamodbEndpoint: string;
  /** Resource name prefix of the tables and queues. */
  readonly prefix: string;
  readonly queueUrls: Readonly<Record<string, string>>;
  readonly tables: Readonly<Record<string, string>>;
  readonly gateways: readonly { readonly id: string; readonly url: string }[];
  /** Where DynamoDB data and secrets live; absent with `--in-memory`. */
  readonly dataDir?: string;
}

export const stateFilePath = (dataDir: string = defaultDataDir()): string => path.join(dataDir, STATE_FILE_NAME);

export function writeStackState(dataDir: string, state: LocalStackState): string {
  mkdirSync(dataDir, { recursive: true });
  const file = stateFilePath(dataDir);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, null, 2), { mode: 0o600 });
  renameSync(tmp, file);
  return file;
}

/** Removes the file only if it is still ours (a second `npm start` may have replaced it). */
export function removeStackState(dataDir: string, pid: number = process.pid): void {
  const current = readStackStateFile(stateFilePath(dataDir));
  if (current && current.pid !== pid) return;
  rmSync(stateFilePath(dataDir), { force: true });
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function readStackStateFile(file: string): LocalStackState | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const parsed = JSON.parse(readFileSync(file, "utf8")) as LocalStackState;
    return parsed.v === 1 ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** The running stack's state, or undefined when none is running (no file, unreadable, or its process is gone). */
export function readStackState(dataDir: string = defaultDataDir()): LocalStackState | undefined {
  const state = readStackStateFile(stateFilePath(dataDir));
  return state && processAlive(state.pid) ? state : undefined;
}

/** The one line every local tool prints when it needs a running stack and there is none. */
export const noLocalStackHint = (alternative: string): string =>
  `no local stack running — start it with \`npm start\`, or pass ${alternative}`;
