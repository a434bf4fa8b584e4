/** JSON over HTTP with a deadline per request, speaking the error envelope of docs/api. */
import { errorOfBody } from "../contracts/api";
import { describeError, HttpStatusError, SmokeTimeoutError } from "./errors";

export interface RequestOptions {
  readonly token?: string;
  readonly body?: unknown;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

export interface JsonResponse {
  readonly status: number;
  readonly body: unknown;
}

export async function requestJson(
  origin: string,
  method: "GET" | "POST",
  path: string,
  options: RequestOptions,
): Promise<JsonResponse> {
  // Query strings are left out of messages: they can carry user ids but never add diagnostic value.
  const label = `${method} ${path.split("?")[0]}`;
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
  const headers: Record<string, string> = { accept: "application/json" };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  let res: Response;
  let text: string;
  try {
    res = await fetch(origin + path, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal,
      redirect: "error",
    });
    text = await res.text();
  } catch (err) {
    if (timeout.aborted) throw new SmokeTimeoutError(`a response to ${label}`, options.timeoutMs);
    throw new Error(`${label}: ${describeError(err)}`, { cause: err });
  }
  let body: unknown = undefined;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON: an ALB 502 page or a proxy's HTML. Keep a short excerpt for the message.
      body = undefined;
    }
  }
  if (!res.ok) {
    const envelope = errorOfBody(body);
    const detail = envelope.message ?? text.replace(/\s+/g, " ").trim().slice(0, 200);
    throw new HttpStatusError(label, res.status, envelope.code, detail);
  }
  if (body === undefined) throw new Error(`${label} → HTTP ${res.status} with a body that is not JSON`);
  return { status: res.status, body };
}
