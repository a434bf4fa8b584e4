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

/** By username: the main guard. */
export const defaultThrottle: ThrottleOptions = {
  maxFailures: 5,
  windowMs: 15 * 60_000,
  lockMs: 60_000,
  maxKeys: 50_000,
};

/** By client address: laxer, since many people can share one (NAT, office). */
export const addressThrottle: ThrottleOptions = { ...defaultThrottle, maxFailures: 50 };

/**
 * The throttle's rules for one kind of key, in memory: the reference model the unit tests pin down. The gateway
 * keeps the same counters in DynamoDB instead (store/auth.ts), so the lock holds across every gateway task —
 * in memory, an attacker spreading over N tasks would get N× the budget.
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
