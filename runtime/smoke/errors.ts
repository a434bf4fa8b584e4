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
 * message when a host name resolves to several addresses. Duck-typed, not `instanceof`: errors from
 * Node internals belong to another realm under test runners that sandbox modules (jest).
 */
export function describeError(err: unknown): string {
  if (typeof err !== "object" || err === null) return String(err);
  const { message, cause, errors, code, name } = err as {
    message?: unknown;
    cause?: unknown;
    errors?: unknown;
    code?: unknown;
    name?: unknown;
  };
  if (Array.isArray(errors) && errors.length > 0 && !message) {
    return [...new Set(errors.map(describeError))].join("; ");
  }
  if (cause !== undefined && (message === "fetch failed" || !message)) return describeError(cause);
  if (typeof message === "string" && message) return message;
  if (typeof code === "string") return code;
  return typeof name === "string" ? name : String(err);
}
