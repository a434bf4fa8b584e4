/**
 * Leaving the load balancer gracefully (the numbers and the AWS order are in contracts/drain.ts): a watchdog
 * that notices the health checks have stopped, and a drain that closes the open sockets with 1001 one after
 * another instead of all at once.
 */
import { closeCodes, GOING_AWAY_REASON, type DrainTiming } from "../contracts";
import type { LocalSession } from "./sessions";

/**
 * Calls `onDeregistered` once, after `missedHealthChecks` intervals without a load balancer health check.
 * Unarmed until the first check: a gateway no load balancer knows about (local, tests) never drains itself.
 */
export class DeregistrationWatchdog {
  private timer?: NodeJS.Timeout;
  private fired = false;

  constructor(
    private readonly timing: DrainTiming,
    private readonly onDeregistered: () => void,
  ) {}

  /** A health check arrived: the target is still registered. */
  healthChecked(): void {
    if (this.fired) return;
    if (this.timer) {
      this.timer.refresh();
      return;
    }
    this.timer = setTimeout(() => {
      this.fired = true;
      this.onDeregistered();
    }, this.timing.healthCheckIntervalMs * this.timing.missedHealthChecks);
    this.timer.unref();
  }

  get armed(): boolean {
    return this.timer !== undefined;
  }

  stop(): void {
    clearTimeout(this.timer);
    this.fired = true;
  }
}

/**
 * Closes `sessions` with 1001 evenly over `spreadMs`, the first at once: each client reconnects to another
 * gateway (and syncs) at its own moment, so the fleet never takes every reconnect in the same second.
 */
export class SpreadDrain {
  private readonly queue: LocalSession[];
  private timer?: NodeJS.Timeout;
  private readonly stepMs: number;

  constructor(sessions: Iterable<LocalSession>, spreadMs: number) {
    this.queue = [...sessions];
    this.stepMs = this.queue.length > 0 ? spreadMs / this.queue.length : 0;
    this.closeNext();
  }

  /** SIGTERM during the spread: whatever remains closes now. */
  finishNow(): void {
    clearTimeout(this.timer);
    while (this.queue.length > 0) closeGoingAway(this.queue.shift()!);
  }

  private closeNext(): void {
    const next = this.queue.shift();
    if (!next) return;
    closeGoingAway(next);
    if (this.queue.length > 0) this.timer = setTimeout(() => this.closeNext(), this.stepMs);
  }
}

export function closeGoingAway(session: Pick<LocalSession, "close">): void {
  session.close(closeCodes.goingAway, GOING_AWAY_REASON);
}
