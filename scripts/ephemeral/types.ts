/**
 * The slice of the Automation API the orchestration uses. The real `Stack` satisfies it through a
 * thin adapter (scripts/ephemeral-stack.ts); unit tests pass a fake.
 */
import type { StackConfig } from "./config";

export interface EngineOptions {
  /** Engine stdout, streamed as it arrives (chunks, not lines). */
  readonly onOutput: (chunk: string) => void;
  readonly onError: (chunk: string) => void;
  /** Aborting sends the Pulumi CLI SIGINT, which stops the operation gracefully. */
  readonly signal: AbortSignal;
}

/** What `preview` may add to the engine options (the Automation API's PreviewOptions of the same names). */
export interface PreviewRequest extends EngineOptions {
  /** Print a detailed diff (`pulumi preview --diff`). */
  readonly diff?: boolean;
  /** Fail when the preview shows any change (`--expect-no-changes`): the idempotency check after `up`. */
  readonly expectNoChanges?: boolean;
  /** Policy pack folders to run (`--policy-pack`). */
  readonly policyPacks?: string[];
}

export interface StackOutput {
  readonly value: unknown;
  readonly secret?: boolean;
}

export interface EphemeralStack {
  readonly name: string;
  setAllConfig(config: StackConfig): Promise<void>;
  preview(options: PreviewRequest): Promise<unknown>;
  up(
    options: EngineOptions & Pick<PreviewRequest, "diff" | "policyPacks">,
  ): Promise<{ readonly outputs: Readonly<Record<string, StackOutput>> }>;
  destroy(options: EngineOptions): Promise<unknown>;
  /** Backend-side cancel of a running update (`pulumi cancel`): the escalation when SIGINT is not enough. */
  cancel(): Promise<void>;
  /** Deletes the stack record and its config; fails while the stack still has resources. */
  remove(): Promise<void>;
}

export interface OpenedStack {
  readonly stack: EphemeralStack;
  /** False when the stack existed before this run: `preview` leaves such a stack alone. */
  readonly created: boolean;
}

export interface SmokeRunner {
  (
    appUrl: string,
    options: { log: (line: string) => void; signal: AbortSignal; readyTimeoutMs: number },
  ): Promise<{ readonly durationMs: number }>;
}

export interface EphemeralDeps {
  /** `create: false` selects an existing stack only (destroy never creates one). */
  openStack(name: string, options: { create: boolean }): Promise<OpenedStack>;
  runSmoke: SmokeRunner;
  log(line: string): void;
  /** Raw engine output. */
  write(chunk: string): void;
  /** How long an aborted operation may take to stop before escalating to `cancel`; default 2 min. */
  readonly graceMs?: number;
  /** Deadline for destroy + remove, separate so a slow deploy never eats the teardown; default 30 min. */
  readonly teardownTimeoutMs?: number;
  /** How long the smoke test keeps polling /healthz of a fresh stack; default 5 min. */
  readonly smokeReadyTimeoutMs?: number;
}
