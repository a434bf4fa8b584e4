/** Errors of the smoke test: every failure names the step it happened in. */

export const smokeSteps = [
  "health",
  "signup",
  "login",
  "conversation",
  "connect",
  "exchange",
  "history",
  "close",
] as const;
export type SmokeStepName = (typeof smokeSteps)[number];

/** Thrown by `runSmoke`; `message` is `step <name>: <reason>` so a CI log line says where it broke. */
export class SmokeStepError extends Error {
  constructor(
    readonly step: SmokeStepName,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`step ${step}: ${reason}`, options);
    this.name = "SmokeStepError";
  }
}

/** A failed HTTP call, with the API's error code when the body carried one. */
export class HttpStatusError extends Error {
  constructor(
    readonly request: string,
    readonly status: number,
    readonly code: string | undefined,
    detail: string,
  ) {
    super(`${request} → HTTP ${status}${code ? ` ${code}` : ""}${detail ? `: ${detail}` : ""}`);
    this.name = "HttpStatusError";
  }
}

/** A wait that ran out of time; the message says what was awaited. */
export class SmokeTimeoutError extends Error {
  constructor(what: string, timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms waiting for ${what}`);
    this.name = "SmokeTimeoutError";
  }
}

/**
 * The most specific human reason inside an error. Node's fetch reports "fetch failed" and hides the
 * socket error (ECONNREFUSED, ENOTFOUND…) in `cause`, sometimes as an AggregateError with an empty
 * message when a host name resolves to several addresses.
 */
export function describeError(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) {
    const inner = [...new Set(err.errors.map(describeError))];
    return inner.join("; ");
  }
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    if (cause !== undefined && (err.message === "fetch failed" || err.message === "")) {
      return describeError(cause);
    }
    if (err.message) return err.message;
    const code = (err as { code?: unknown }).code;
    return typeof code === "string" ? code : err.name;
  }
  return String(err);
}
