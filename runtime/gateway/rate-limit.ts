/**
 * The per-socket frame rate limit: a token bucket, and the count of refusals after which the socket is closed.
 */

/** A classic token bucket: `rate` tokens a second up to `burst`. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.last = now();
  }

  take(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.rate);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** What the limit decides for one frame: read it, refuse it (RATE_LIMITED), or close the socket (1008). */
export type FrameAdmission = "read" | "refuse" | "close";

/** Violations more than this far apart do not add up. */
const VIOLATION_WINDOW_MS = 10_000;

export class FrameRateLimit {
  private readonly bucket: TokenBucket;
  private violations = 0;
  private lastViolation = 0;

  constructor(
    limits: { readonly rateLimitPerSecond: number; readonly rateLimitBurst: number },
    private readonly maxViolations: number,
    private readonly now: () => number,
  ) {
    this.bucket = new TokenBucket(limits.rateLimitPerSecond, limits.rateLimitBurst, now);
  }

  admit(): FrameAdmission {
    if (this.bucket.take()) return "read";
    const t = this.now();
    if (t - this.lastViolation > VIOLATION_WINDOW_MS) this.violations = 0;
    this.lastViolation = t;
    this.violations++;
    return this.violations > this.maxViolations ? "close" : "refuse";
  }
}
