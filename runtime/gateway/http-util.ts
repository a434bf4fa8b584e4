import type { IncomingMessage, ServerResponse } from "node:http";

export class BodyError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "BodyError";
  }
}

/** Reads a JSON body of at most `limit` bytes; anything else is the client's fault (4xx), never a 5xx. */
export async function readBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/json") {
    throw new BodyError(415, "VALIDATION", "content-type must be application/json");
  }
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > limit) {
    req.resume();
    throw new BodyError(413, "VALIDATION", `body must be at most ${limit} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    // Keep draining past the limit (bounded) so the client reads a 413 instead of a reset connection.
    if (size > 64 * limit) break;
    if (size <= limit) chunks.push(chunk as Buffer);
  }
  if (size > limit) throw new BodyError(413, "VALIDATION", `body must be at most ${limit} bytes`);
  const text = Buffer.concat(chunks).toString("utf8");
  if (!text) throw new BodyError(400, "VALIDATION", "a JSON body is required");
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new BodyError(400, "VALIDATION", "body is not valid JSON");
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

export function sendError(res: ServerResponse, status: number, code: string, message: string, headers = {}) {
  sendJson(res, status, { error: { code, message } }, headers);
}
