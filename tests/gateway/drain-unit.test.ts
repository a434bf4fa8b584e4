/** The deregistration watchdog and the spread drain on their own, on fake timers. */
import { closeCodes, GOING_AWAY_REASON, type DrainTiming } from "../../runtime/contracts";
import { DeregistrationWatchdog, SpreadDrain } from "../../runtime/gateway/drain";

const timingOf: DrainTiming = { healthCheckIntervalMs: 1_000, missedHealthChecks: 3, drainSpreadMs: 10_000 };

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

test("never health-checked: never drains (a gateway no load balancer knows about)", () => {
  const fired = jest.fn();
  const w = new DeregistrationWatchdog(timingOf, fired);
  jest.advanceTimersByTime(3_600_000);
  expect(w.armed).toBe(false);
  expect(fired).not.toHaveBeenCalled();
});

test("each health check postpones the verdict; `missed` silent intervals after the last one fire it once", () => {
  const fired = jest.fn();
  const w = new DeregistrationWatchdog(timingOf, fired);
  for (let i = 0; i < 10; i++) {
    w.healthChecked();
    jest.advanceTimersByTime(2_999);
  }
  expect(fired).not.toHaveBeenCalled();
  jest.advanceTimersByTime(1);
  expect(fired).toHaveBeenCalledTimes(1);
  w.healthChecked();
  jest.advanceTimersByTime(60_000);
  expect(fired).toHaveBeenCalledTimes(1);
});

test("stop() disarms it", () => {
  const fired = jest.fn();
  const w = new DeregistrationWatchdog(timingOf, fired);
  w.healthChecked();
  w.stop();
  jest.advanceTimersByTime(60_000);
  expect(fired).not.toHaveBeenCalled();
});

test("the drain closes one socket every spread/n with 1001 and the reconnect advice; finishNow closes the rest", () => {
  const closes: { at: number; code: number; reason: string }[] = [];
  const start = Date.now();
  const session = () => ({
    close: (code: number, reason: string) => closes.push({ at: Date.now() - start, code, reason }),
  });
  const sessions = Array.from({ length: 5 }, session);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- only close() is used
  const drain = new SpreadDrain(sessions as any, 10_000);
  jest.advanceTimersByTime(6_000);
  expect(closes.map((c) => c.at)).toEqual([0, 2_000, 4_000, 6_000]);
  drain.finishNow();
  expect(closes).toHaveLength(5);
  expect(closes.every((c) => c.code === closeCodes.goingAway && c.reason === GOING_AWAY_REASON)).toBe(true);
  jest.advanceTimersByTime(60_000);
  expect(closes).toHaveLength(5);
});
