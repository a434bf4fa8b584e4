/**
 * Which rows of a conversation's timeline are in the DOM. Rendering all of a long conversation made opening it
 * and every keystroke under it slow (1,000 messages: 743 ms to open, 283 ms p95 frames while typing), so the
 * view renders a window that ends at the newest row and starts at a remembered row: the last WINDOW_ROWS at
 * first (or from just above the unread divider), WINDOW_STEP more each time the reader scrolls to its top, and
 * back to the tail on "jump to latest". Older pages are fetched only once the whole list is rendered. (pure)
 */
export const WINDOW_ROWS = 120;
export const WINDOW_STEP = 100;
/** Rows kept above the unread divider when the window opens at it. */
const ABOVE_DIVIDER = 10;

interface Row {
  readonly kind: string;
  readonly key: string;
}

/** Index of the first rendered row: the one keyed `firstKey` if it is still there, else the default window. */
export function windowStart(rows: readonly Row[], firstKey: string | null): number {
  if (firstKey !== null) {
    const i = rows.findIndex((r) => r.key === firstKey);
    if (i >= 0) return i;
  }
  const tail = Math.max(0, rows.length - WINDOW_ROWS);
  const divider = rows.findIndex((r) => r.kind === "unread");
  return divider < 0 ? tail : Math.max(0, Math.min(tail, divider - ABOVE_DIVIDER));
}

/** The first key of the window grown up by a step; undefined when it already starts at the first row. */
export function grownStart(rows: readonly Row[], start: number): string | undefined {
  return start > 0 ? rows[Math.max(0, start - WINDOW_STEP)]!.key : undefined;
}
