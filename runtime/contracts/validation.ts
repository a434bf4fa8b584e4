/**
 * How every boundary says why input failed its zod schema: an HTTP 400, a WebSocket error frame, a poison queue
 * message, a config error, the smoke client's "unexpected body". One wording, "path: message", so a client or
 * an operator reads the same kind of sentence wherever the input came in. zod only: the web build includes it.
 */
import type { z } from "zod";

export interface DescribeZodErrorOptions {
  /** What to call the input itself when an issue is about the whole value (no path); without it, the message stands alone. */
  readonly root?: string;
  /** Every issue, joined with "; ". By default only the first: one thing to fix, in a message that stays short. */
  readonly all?: boolean;
}

export function describeZodError(error: z.ZodError, options: DescribeZodErrorOptions = {}): string {
  const issues = options.all ? error.issues : error.issues.slice(0, 1);
  if (issues.length === 0) return "invalid input";
  return issues
    .map((issue) => {
      // String(): a path element may be a symbol, which join() would throw on.
      const where = issue.path.length ? issue.path.map(String).join(".") : options.root;
      return where ? `${where}: ${issue.message}` : issue.message;
    })
    .join("; ");
}
