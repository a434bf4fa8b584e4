import { grownStart, windowStart, WINDOW_ROWS, WINDOW_STEP } from "../../web/src/state/rowWindow";

const rows = (n: number, dividerAt?: number) => {
  const out = Array.from({ length: n }, (_, i) => ({ kind: "message", key: `m${i}` }));
  if (dividerAt !== undefined) out.splice(dividerAt, 0, { kind: "unread", key: "unread" });
  return out;
};

describe("the rendered window of a long conversation", () => {
  it("starts with the newest WINDOW_ROWS, or everything when there are fewer", () => {
    expect(windowStart(rows(1000), null)).toBe(1000 - WINDOW_ROWS);
    expect(windowStart(rows(30), null)).toBe(0);
  });

  it("opens just above an unread divider that lies above the tail", () => {
    expect(windowStart(rows(1000, 500), null)).toBe(490);
    expect(windowStart(rows(1000, 990), null)).toBe(1001 - WINDOW_ROWS); // already inside the tail
  });

  it("grows by a step from a remembered row, which stays put as newer rows arrive", () => {
    const r = rows(1000);
    const start = windowStart(r, null);
    const key = grownStart(r, start)!;
    expect(windowStart(r, key)).toBe(start - WINDOW_STEP);
    expect(windowStart([...r, { kind: "message", key: "new" }], key)).toBe(start - WINDOW_STEP);
    expect(grownStart(r, 0)).toBeUndefined();
    expect(windowStart(r, "gone")).toBe(start); // a key no longer there: the default window
  });
});
