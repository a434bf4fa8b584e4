/** Serves the built web client from PARLEY_WEB_DIR; unknown paths get index.html (client-side routing). */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import path from "node:path";
import { sendError } from "./http-util";

const types: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
  ".map": "application/json; charset=utf-8",
};

const securityHeaders = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
};

export function createStaticHandler(webDir: string | undefined) {
  const root = webDir ? path.resolve(webDir) : undefined;

  async function fileAt(rel: string): Promise<string | undefined> {
    if (!root) return undefined;
    const full = path.resolve(root, "." + rel);
    // Never outside the web root, whatever `..` or encoded tricks the path holds.
    if (full !== root && !full.startsWith(root + path.sep)) return undefined;
    try {
      const s = await stat(full);
      if (s.isFile()) return full;
      if (s.isDirectory()) {
        const index = path.join(full, "index.html");
        if ((await stat(index).catch(() => undefined))?.isFile()) return index;
      }
    } catch {
      return undefined;
    }
    return undefined;
  }

  return async function serveStatic(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (req.method !== "GET" && req.method !== "HEAD") return sendError(res, 405, "VALIDATION", "method not allowed");
    if (!root) return sendError(res, 404, "NOT_FOUND", "no web client is served here");
    let rel: string;
    try {
      rel = decodeURIComponent(url.pathname);
    } catch {
      return sendError(res, 400, "VALIDATION", "malformed path");
    }
    if (rel.includes("\0")) return sendError(res, 400, "VALIDATION", "malformed path");
    let file = await fileAt(rel);
    // SPA fallback only for page-like paths; a missing asset is a real 404.
    if (!file && !path.extname(rel)) file = await fileAt("/index.html");
    if (!file) return sendError(res, 404, "NOT_FOUND", "not found");
    const ext = path.extname(file);
    const immutable = rel.startsWith("/assets/");
    res.writeHead(200, {
      "content-type": types[ext] ?? "application/octet-stream",
      "cache-control": immutable ? "public, max-age=31536000, immutable" : "no-cache",
      ...securityHeaders,
    });
    if (req.method === "HEAD") return void res.end();
    createReadStream(file)
      .on("error", () => res.destroy())
      .pipe(res);
  };
}
