/**
 * The one queue-consumer lifecycle in Parley. Both long-poll loops run on it: the gateway's notification consumer
 * and the local stand-in for Lambda's SQS event source. The model is bbc/sqs-consumer: `start`/`stop`, one
 * AbortController, and only what was handled is deleted.
 *
 * - `receivers` loops each long-poll the queue (`waitTimeSeconds`) for up to `maxMessages` messages. By default a
 *   loop handles its batch before it receives again; with `handlersInFlight`, a loop takes a free handler slot
 *   before each receive and hands the batch over without waiting, so one receiver can keep several batches in
 *   flight (as Lambda's event source mapping does) without the extra empty receives of more receivers.
 * - A received batch goes to `handle`. It returns the messages it handled, and only those are deleted, in one
 *   DeleteMessageBatch. The rest stay invisible until the queue's visibility timeout ends and then come back. The
 *   queue's redrive policy moves them to the DLQ after maxReceiveCount. A handler that throws leaves the whole
 *   batch. With `deleteWithinMs`, handled messages wait up to that long for others to share their
 *   DeleteMessageBatch (10 entries, SQS's limit): at a few messages a second each long poll returns one message,
 *   and a delete per receive was half of the consumer's calls. A crash in the window only means those messages
 *   come back after the visibility timeout, which the window must stay well inside.
 * - A failed receive or a thrown handler backs off: 50 ms, doubling up to 2 s. The next success resets it.
 * - `stop()` starts no new receive. Each receive in flight may finish, because aborting a long poll can leave SQS
 *   handing its messages to a closed connection, where they stay invisible for the whole visibility timeout. That
 *   wait is capped at `waitTimeSeconds` plus a grace period; after it the receives are aborted. Batches already
 *   received are handled and deleted before `stop()` resolves.
 */
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type Message,
  type MessageSystemAttributeName,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { setTimeout as delay } from "node:timers/promises";
import { SQS_BATCH_MAX } from "./batches";

export type ConsumerPhase = "receive" | "handle" | "delete";

export interface QueueConsumerOptions {
  /** Deletes go through it. */
  readonly sqs: SQSClient;
  /** Receives go through it (default `sqs`): they carry an abort signal, which empties a client's middleware cache. */
  readonly pollSqs?: SQSClient;
  readonly queueUrl: string;
  /** Receive loops running at once; 0 consumes nothing (a gateway whose notification path is turned off). */
  readonly receivers: number;
  /** Messages per receive, 1 to 10 (the SQS limit). */
  readonly maxMessages: number;
  readonly waitTimeSeconds: number;
  readonly attributeNames?: MessageSystemAttributeName[];
  /** Handles one batch and returns the messages to delete (those it handled). */
  readonly handle: (messages: Message[]) => Promise<readonly Message[]>;
  readonly onError: (err: unknown, phase: ConsumerPhase, messages: number) => void;
  /** How long past `waitTimeSeconds` a receive in flight may take once `stop()` was called. */
  readonly stopGraceMs?: number;
  /** Batches being handled at once, over all receivers (default: one per receiver, handled in its loop). */
  readonly handlersInFlight?: number;
  /**
   * Handled messages are deleted within this many ms, gathered with others into one DeleteMessageBatch; 0 (the
   * default) deletes each batch as soon as it is handled, as Lambda's event source mapping does.
   */
  readonly deleteWithinMs?: number;
  /** Waits between a failure and the next receive, cut short by `signal` (tests record the pauses). */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

export const BACKOFF_MIN_MS = 50;
export const BACKOFF_MAX_MS = 2_000;
const DEFAULT_STOP_GRACE_MS = 1_500;

/** The pause after `failures` failures in a row: 50 ms · 2^(failures-1), at most 2 s. */
export function backoffMs(failures: number): number {
  return Math.min(BACKOFF_MIN_MS * 2 ** Math.max(0, failures - 1), BACKOFF_MAX_MS);
}

export class QueueConsumer {
  /** Aborted by `stop()`: no new receive, no more backoff. */
  private readonly stopping = new AbortController();
  /** Aborted once the stop grace has passed: receives still in flight are cut. */
  private readonly cancel = new AbortController();
  private loops: Promise<void>[] = [];
  private started = false;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly slotWaiters: (() => void)[] = [];
  /** Handled, not yet deleted (deleteWithinMs), oldest first. */
  private pendingDeletes: Message[] = [];
  private deleteTimer?: NodeJS.Timeout;
  private readonly deletesInFlight = new Set<Promise<void>>();

  constructor(private readonly opts: QueueConsumerOptions) {
    const { receivers, maxMessages, handlersInFlight } = opts;
    if (!Number.isInteger(receivers) || receivers < 0) throw new Error(`receivers must be ≥ 0, got ${receivers}`);
    if (handlersInFlight !== undefined && (!Number.isInteger(handlersInFlight) || handlersInFlight < 1)) {
      throw new Error(`handlersInFlight must be ≥ 1, got ${handlersInFlight}`);
    }
    if (!Number.isInteger(maxMessages) || maxMessages < 1 || maxMessages > SQS_BATCH_MAX) {
      throw new Error(`maxMessages must be between 1 and ${SQS_BATCH_MAX}, got ${maxMessages}`);
    }
    const within = opts.deleteWithinMs ?? 0;
    if (!Number.isFinite(within) || within < 0) throw new Error(`deleteWithinMs must be ≥ 0, got ${within}`);
  }

  start(): void {
    if (this.started) throw new Error("queue consumer already started");
    this.started = true;
    for (let i = 0; i < this.opts.receivers; i++) this.loops.push(this.poll());
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    const all = Promise.allSettled(this.loops);
    const graceMs = this.opts.waitTimeSeconds * 1000 + (this.opts.stopGraceMs ?? DEFAULT_STOP_GRACE_MS);
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise((r) => (timer = setTimeout(r, graceMs)));
    await Promise.race([all, grace]);
    clearTimeout(timer);
    this.cancel.abort();
    await all;
    await Promise.allSettled([...this.inFlight]);
    this.flushDeletes();
    await Promise.allSettled([...this.deletesInFlight]);
  }

  /** Resolves once fewer than `handlersInFlight` batches are being handled. */
  private async freeSlot(): Promise<void> {
    while (this.inFlight.size >= this.opts.handlersInFlight!) {
      await new Promise<void>((r) => this.slotWaiters.push(r));
    }
  }

  /** Hands a batch to a slot without waiting for it. */
  private handOff(messages: Message[]): void {
    const p = this.handleAndDelete(messages).then(
      () => undefined,
      () => undefined,
    );
    this.inFlight.add(p);
    void p.finally(() => {
      this.inFlight.delete(p);
      this.slotWaiters.shift()?.();
    });
  }

  private pause(ms: number, signal: AbortSignal): Promise<void> {
    return (this.opts.sleep ?? sleep)(ms, signal);
  }

  private async poll(): Promise<void> {
    const signal = this.cancel.signal;
    const stopping = this.stopping.signal;
    let failures = 0;
    while (!stopping.aborted) {
      if (this.opts.handlersInFlight !== undefined) {
        await this.freeSlot();
        if (stopping.aborted) return;
      }
      let messages: Message[];
      try {
        const out = await (this.opts.pollSqs ?? this.opts.sqs).send(
          new ReceiveMessageCommand({
            QueueUrl: this.opts.queueUrl,
            MaxNumberOfMessages: this.opts.maxMessages,
            WaitTimeSeconds: this.opts.waitTimeSeconds,
            ...(this.opts.attributeNames ? { MessageSystemAttributeNames: this.opts.attributeNames } : {}),
          }),
          { abortSignal: signal },
        );
        messages = out.Messages ?? [];
      } catch (err) {
        if (signal.aborted) return;
        this.opts.onError(err, "receive", 0);
        await this.pause(backoffMs(++failures), stopping);
        continue;
      }
      if (messages.length && this.opts.handlersInFlight !== undefined) {
        this.handOff(messages);
      } else if (messages.length && !(await this.handleAndDelete(messages))) {
        await this.pause(backoffMs(++failures), stopping);
        continue;
      }
      failures = 0;
    }
  }

  /** False when the handler threw (the batch is left for redelivery). */
  private async handleAndDelete(messages: Message[]): Promise<boolean> {
    let handled: readonly Message[];
    try {
      handled = await this.opts.handle(messages);
    } catch (err) {
      this.opts.onError(err, "handle", messages.length);
      return false;
    }
    if (!handled.length) return true;
    if (!this.opts.deleteWithinMs || this.stopping.signal.aborted) {
      await this.deleteBatch(handled);
      return true;
    }
    this.pendingDeletes.push(...handled);
    while (this.pendingDeletes.length >= SQS_BATCH_MAX) this.track(this.pendingDeletes.splice(0, SQS_BATCH_MAX));
    if (this.pendingDeletes.length && !this.deleteTimer) {
      this.deleteTimer = setTimeout(() => this.flushDeletes(), this.opts.deleteWithinMs);
      this.deleteTimer.unref();
    }
    return true;
  }

  /** Deletes everything handled and not yet deleted, now. */
  private flushDeletes(): void {
    clearTimeout(this.deleteTimer);
    this.deleteTimer = undefined;
    while (this.pendingDeletes.length) this.track(this.pendingDeletes.splice(0, SQS_BATCH_MAX));
  }

  private track(messages: Message[]): void {
    const p = this.deleteBatch(messages);
    this.deletesInFlight.add(p);
    void p.finally(() => this.deletesInFlight.delete(p));
  }

  /** One DeleteMessageBatch (≤ 10 messages). Never throws. */
  private async deleteBatch(messages: readonly Message[]): Promise<void> {
    try {
      const out = await this.opts.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.opts.queueUrl,
          Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
        }),
      );
      if (out.Failed?.length) this.opts.onError(new Error(JSON.stringify(out.Failed)), "delete", out.Failed.length);
    } catch (err) {
      // Undeleted messages come back after the visibility timeout; every consumer of Parley's queues is idempotent.
      this.opts.onError(err, "delete", messages.length);
    }
  }
}

/** Waits `ms`, or less if `signal` aborts first. */
const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  delay(ms, undefined, { signal }).catch(() => undefined);
