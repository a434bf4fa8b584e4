/**
 * The HTTP plumbing every gateway endpoint shares (the API, the internal peer endpoint, the static client,
 * /healthz): refusals as typed errors, bounded JSON bodies, JSON answers in the error body of contracts/api.ts.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { HttpErrorBody, HttpErrorCode } from "../contracts/api";

/** A request refused with this status and code; the message is shown to the client. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: HttpErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "HttpError";
  }
}

/** The request body was refused: wrong type, too large, empty or not JSON. */
export class BodyError extends HttpError {
  constructor(status: number, message: string) {
    super(status, "VALIDATION", message);
    this.name = "BodyError";
  }
}

/** Reads a JSON body of at most `limit` bytes; anything else is the client's fault (4xx), never a 5xx. */
export async function readBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/json") {
    throw new BodyError(415, "content-type must be application/json");
  }
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > limit) {
    req.resume();
    throw new BodyError(413, `body must be at most ${limit} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    // Keep draining past the limit (bounded) so the client reads a 413 instead of a reset connection.
    if (size > 64 * limit) break;
    if (size <= limit) chunks.push(chunk as Buffer);
  }
  if (size > limit) throw new BodyError(413, `body must be at most ${limit} bytes`);
  const text = Buffer.concat(chunks).toString("utf8");
  if (!text) throw new BodyError(400, "a JSON body is required");
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new BodyError(400, "body is not valid JSON");
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    ...headers,
  });
  res.end(text);
}

export function sendError(
  res: ServerResponse,
  status: number,
  code: HttpErrorCode,
  message: string,
  headers: Record<string, string> = {},
) {
  const body: HttpErrorBody = { error: { code, message } };
  sendJson(res, status, body, headers);
}

/** The client's address: the rightmost X-Forwarded-For hop (the one the ALB appended), else the socket peer. */
export function clientAddress(req: IncomingMessage): string {
  const xff = req.headers["x-forwarded-for"];
  const last = typeof xff === "string" ? xff.split(",").pop()?.trim() : undefined;
  return last || req.socket.remoteAddress || "unknown";
}
