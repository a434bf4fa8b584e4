/**
 * JSON over HTTP, speaking the error envelope of docs/api: `sendJson` answers with any status (the test suites'
 * client, tests/support/clients.ts), `requestJson` — the smoke test's — has a deadline and throws on an error.
 */
import { errorOfBody } from "../contracts/api";
import { describeError, HttpStatusError, SmokeTimeoutError } from "./errors";

export interface SendOptions {
  readonly token?: string;
  readonly body?: unknown;
  /** Deadline for the whole exchange; default none. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  readonly headers?: Readonly<Record<string, string>>;
  readonly redirect?: RequestRedirect;
}

export interface RequestOptions extends SendOptions {
  readonly timeoutMs: number;
}

export interface JsonResponse {
  readonly status: number;
  /** Undefined when the body is empty or not JSON. */
  readonly body: unknown;
  readonly text: string;
}

/** One request with a JSON body (when given) and the answer's body parsed as JSON when it is JSON. */
export async function sendJson(
  origin: string,
  method: string,
  path: string,
  options: SendOptions = {},
): Promise<JsonResponse> {
  // Query strings are left out of messages: they can carry user ids but never add diagnostic value.
  const label = `${method} ${path.split("?")[0]}`;
  const timeout = options.timeoutMs === undefined ? undefined : AbortSignal.timeout(options.timeoutMs);
  const signals = [timeout, options.signal].filter((s): s is AbortSignal => s !== undefined);
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  let res: Response;
  let text: string;
  try {
    res = await fetch(origin + path, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: signals.length > 1 ? AbortSignal.any(signals) : signals[0],
      redirect: options.redirect,
    });
    text = await res.text();
  } catch (err) {
    if (timeout?.aborted) throw new SmokeTimeoutError(`a response to ${label}`, options.timeoutMs!);
    throw new Error(`${label}: ${describeError(err)}`, { cause: err });
  }
  let body: unknown = undefined;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON: an ALB 502 page or a proxy's HTML; `text` keeps it.
      body = undefined;
    }
  }
  return { status: res.status, body, text };
}

/** `sendJson` with a deadline that fails on an error status (HttpStatusError) and on a body that is not JSON. */
export async function requestJson(
  origin: string,
  method: "GET" | "POST",
  path: string,
  options: RequestOptions,
): Promise<JsonResponse> {
  const label = `${method} ${path.split("?")[0]}`;
  const res = await sendJson(origin, method, path, {
    ...options,
    headers: { accept: "application/json", ...options.headers },
    redirect: "error",
  });
  if (res.status < 200 || res.status > 299) {
    const envelope = errorOfBody(res.body);
    const detail = envelope.message ?? res.text.replace(/\s+/g, " ").trim().slice(0, 200);
    throw new HttpStatusError(label, res.status, envelope.code, detail);
  }
  if (res.body === undefined) throw new Error(`${label} → HTTP ${res.status} with a body that is not JSON`);
  return res;
}
