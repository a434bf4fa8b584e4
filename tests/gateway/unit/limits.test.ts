/** Unit tests of the gateway's rate limits: the per-socket token bucket and the failed-login throttle. */
import { LoginThrottle } from "../../../runtime/gateway/throttle";
import { TokenBucket } from "../../../runtime/gateway/rate-limit";

describe("TokenBucket", () => {
  it("allows a burst, then refills at the rate", () => {
    let t = 0;
    const b = new TokenBucket(2, 3, () => t);
    expect([b.take(), b.take(), b.take(), b.take()]).toEqual([true, true, true, false]);
    t += 499;
    expect(b.take()).toBe(false);
    t += 1;
    expect(b.take()).toBe(true);
    t += 10_000;
    expect([b.take(), b.take(), b.take(), b.take()]).toEqual([true, true, true, false]);
  });
});

describe("LoginThrottle", () => {
  it("locks a key after maxFailures within the window, for lockMs; success clears it", () => {
    let t = 0;
    const th = new LoginThrottle({ maxFailures: 3, windowMs: 1000, lockMs: 500, maxKeys: 10 }, () => t);
    th.recordFailure("bob");
    th.recordFailure("bob");
    expect(th.retryAfterMs("bob")).toBe(0);
    th.recordFailure("bob");
    expect(th.retryAfterMs("bob")).toBe(500);
    expect(th.retryAfterMs("alice")).toBe(0);
    t += 500;
    expect(th.retryAfterMs("bob")).toBe(0);
    th.recordFailure("carol");
    th.recordFailure("carol");
    t += 2000; // window over: the count starts again
    th.recordFailure("carol");
    expect(th.retryAfterMs("carol")).toBe(0);
    th.recordSuccess("carol");
    th.recordFailure("carol");
    th.recordFailure("carol");
    expect(th.retryAfterMs("carol")).toBe(0);
  });

  it("keeps at most maxKeys keys", () => {
    const th = new LoginThrottle({ maxFailures: 1, windowMs: 1000, lockMs: 1000, maxKeys: 2 }, () => 0);
    th.recordFailure("a");
    th.recordFailure("b");
    th.recordFailure("c");
    expect([th.retryAfterMs("a"), th.retryAfterMs("b"), th.retryAfterMs("c")]).toEqual([0, 1000, 1000]);
  });
});
