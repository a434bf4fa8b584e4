/**
 * Serves the built web client from PARLEY_WEB_DIR; unknown page paths get index.html (client-side routing).
 * Hashed assets under /assets/ are cached for a year (immutable), everything else revalidates (no-cache). Text
 * files are sent brotli- or gzip-compressed when the request accepts it (compressed once per file version and
 * kept in a bounded cache). Source maps are never served.
 */
import { createReadStream } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import path from "node:path";
import { promisify } from "node:util";
import { brotliCompress, constants as zlib, gzip } from "node:zlib";
import { sendError } from "./http-util";
import { securityHeaders } from "./security-headers";

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
};

/** Worth compressing: text. Images and woff2 are compressed already. */
const compressible = new Set([".html", ".js", ".mjs", ".css", ".json", ".svg", ".txt"]);

/** Files above this are streamed as they are (the client's bundles are far smaller). */
const MAX_COMPRESS_BYTES = 8 * 1024 * 1024;
/** Total compressed bytes kept; past it the oldest entries go. */
const CACHE_BYTES = 32 * 1024 * 1024;

type Encoding = "br" | "gzip";

const brotli = promisify(brotliCompress);
const gz = promisify(gzip);

/** The encoding to send for an Accept-Encoding header: the higher-weighted of br and gzip, else none; `q=0` refuses one. */
export function chooseEncoding(header: string | string[] | undefined): Encoding | undefined {
  const accepted = new Map<string, number>();
  for (const part of (Array.isArray(header) ? header.join(",") : (header ?? "")).split(",")) {
    const [name, ...params] = part.trim().toLowerCase().split(";");
    if (!name) continue;
    const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
    accepted.set(name, q === undefined ? 1 : Number(q));
  }
  const weight = (enc: string) => accepted.get(enc) ?? (accepted.has("*") ? accepted.get("*")! : 0);
  const br = weight("br");
  const gzip = weight("gzip");
  // The client's preference first; br on a tie (smaller).
  if (br > 0 && br >= gzip) return "br";
  if (gzip > 0) return "gzip";
  return undefined;
}

export function createStaticHandler(webDir: string | undefined) {
  const root = webDir ? path.resolve(webDir) : undefined;
  const compressed = new Map<string, Promise<Buffer>>();
  const sizes = new Map<string, number>();
  let cachedBytes = 0;

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

  /** The compressed bytes of one version of a file (keyed by mtime and size), computed once. */
  function compressedBody(file: string, version: string, encoding: Encoding): Promise<Buffer> {
    const key = `${encoding}:${version}:${file}`;
    const hit = compressed.get(key);
    if (hit) {
      // Most recently used last, so eviction takes the oldest.
      compressed.delete(key);
      compressed.set(key, hit);
      return hit;
    }
    const work = readFile(file).then((raw) =>
      encoding === "br"
        ? brotli(raw, {
            params: { [zlib.BROTLI_PARAM_QUALITY]: 9, [zlib.BROTLI_PARAM_SIZE_HINT]: raw.length },
          })
        : gz(raw, { level: 9 }),
    );
    compressed.set(key, work);
    work.then(
      (body) => {
        if (compressed.get(key) !== work) return;
        sizes.set(key, body.length);
        cachedBytes += body.length;
        for (const [oldKey] of compressed) {
          if (cachedBytes <= CACHE_BYTES || oldKey === key) break;
          compressed.delete(oldKey);
          cachedBytes -= sizes.get(oldKey) ?? 0;
          sizes.delete(oldKey);
        }
      },
      () => compressed.delete(key),
    );
    return work;
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
    // Source maps stay private even if a build left some behind.
    if (rel.toLowerCase().endsWith(".map")) return sendError(res, 404, "NOT_FOUND", "not found");
    const asset = rel.startsWith("/assets/");
    let file = await fileAt(rel);
    // SPA fallback only for page-like paths; a missing asset is a real 404.
    if (!file && !asset && !path.extname(rel)) file = await fileAt("/index.html");
    if (!file) return sendError(res, 404, "NOT_FOUND", "not found");
    const ext = path.extname(file);
    const info = await stat(file).catch(() => undefined);
    if (!info) return sendError(res, 404, "NOT_FOUND", "not found");
    const headers: Record<string, string | number> = {
      ...securityHeaders,
      "content-type": types[ext] ?? "application/octet-stream",
      "cache-control": asset ? "public, max-age=31536000, immutable" : "no-cache",
    };
    const canCompress = compressible.has(ext) && info.size <= MAX_COMPRESS_BYTES;
    if (canCompress) headers.vary = "Accept-Encoding";
    const encoding = canCompress ? chooseEncoding(req.headers["accept-encoding"]) : undefined;
    if (encoding) {
      let body: Buffer;
      try {
        body = await compressedBody(file, `${info.mtimeMs}:${info.size}`, encoding);
      } catch {
        return sendError(res, 404, "NOT_FOUND", "not found");
      }
      res.writeHead(200, { ...headers, "content-encoding": encoding, "content-length": body.length });
      return void res.end(req.method === "HEAD" ? undefined : body);
    }
    res.writeHead(200, { ...headers, "content-length": info.size });
    if (req.method === "HEAD") return void res.end();
    createReadStream(file)
      .on("error", () => res.destroy())
      .pipe(res);
  };
}
