/** Failed-login throttling (no jose import, so unit tests load it directly). */

export interface ThrottleOptions {
  /** Failures allowed per key inside the window before logins are refused. */
  readonly maxFailures: number;
  readonly windowMs: number;
  /** How long a key stays locked after reaching maxFailures. */
  readonly lockMs: number;
  /** Cap on tracked keys so a spray of usernames cannot grow memory without bound. */
  readonly maxKeys: number;
}

export const defaultThrottle: ThrottleOptions = {
  maxFailures: 5,
  windowMs: 15 * 60_000,
  lockMs: 60_000,
  maxKeys: 50_000,
};

/**
 * Failed-login throttle for one kind of key (the gateway keeps one by username and a laxer one by client
 * address). In memory per gateway: an attacker spreading over N tasks gets at most N× the budget.
 */
export class LoginThrottle {
  private readonly failures = new Map<string, { count: number; first: number; lockedUntil: number }>();

  constructor(
    private readonly opts: ThrottleOptions = defaultThrottle,
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds until `key` may try again; 0 when allowed. */
  retryAfterMs(key: string): number {
    const f = this.failures.get(key);
    const t = this.now();
    return f && f.lockedUntil > t ? f.lockedUntil - t : 0;
  }

  recordFailure(key: string): void {
    const t = this.now();
    let f = this.failures.get(key);
    if (!f || t - f.first > this.opts.windowMs) {
      f = { count: 0, first: t, lockedUntil: 0 };
      if (this.failures.size >= this.opts.maxKeys) this.evictOldest();
      this.failures.set(key, f);
    }
    f.count += 1;
    if (f.count >= this.opts.maxFailures) f.lockedUntil = t + this.opts.lockMs;
  }

  recordSuccess(key: string): void {
    this.failures.delete(key);
  }

  private evictOldest(): void {
    const first = this.failures.keys().next();
    if (!first.done) this.failures.delete(first.value);
  }
}
