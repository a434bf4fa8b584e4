/**
 * Security and caching headers on every response of a real gateway process: the client's pages and assets, the
 * API, /healthz and a refused upgrade. Source maps are never served; text files come compressed when asked.
 */
import { existsSync, readdirSync, readFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { get, type IncomingHttpHeaders } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import WebSocket from "ws";
import { env, WS_PROTOCOL } from "../../runtime/contracts";
import { repoRoot } from "../../runtime/local/processes";
import { startLocalStack, type LocalStack } from "../../runtime/local/stack";
import { signup } from "../support/users";

jest.setTimeout(60_000);

let stack: LocalStack;
let base: string;
let webDir: string;
const ASSET = "/assets/index-a1b2c3d4.js";
// Big and repetitive enough that compression shows.
const assetBody = Array.from({ length: 2000 }, (_, i) => `console.log("parley line ${i}");`).join("\n");
const indexBody = `<!doctype html><html><head><title>Parley</title><script type="module" src="${ASSET}"></script></head><body><div id="root"></div></body></html>`;

interface Raw {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A GET whose body is not decoded (fetch would undo the content-encoding under test). */
function rawGet(pathname: string, headers: Record<string, string> = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    get(base + pathname, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    }).on("error", reject);
  });
}

function directives(csp: string | undefined): Map<string, string[]> {
  return new Map(
    (csp ?? "")
      .split(";")
      .map((d) => d.trim().split(/\s+/))
      .filter((d) => d[0])
      .map(([name, ...values]) => [name!, values]),
  );
}

function expectSecurityHeaders(headers: IncomingHttpHeaders, what: string): void {
  const csp = directives(headers["content-security-policy"] as string | undefined);
  expect({ what, csp: Object.fromEntries(csp) }).toMatchObject({
    what,
    csp: {
      "default-src": ["'self'"],
      "script-src": ["'self'"],
      "object-src": ["'none'"],
      "base-uri": ["'none'"],
      "frame-ancestors": ["'none'"],
    },
  });
  const connect = csp.get("connect-src") ?? [];
  expect(connect.every((s) => ["'self'", "ws:", "wss:"].includes(s))).toBe(true);
  expect(headers["content-security-policy"]).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
  expect({ what, nosniff: headers["x-content-type-options"] }).toEqual({ what, nosniff: "nosniff" });
  expect({ what, referrer: headers["referrer-policy"] }).toEqual({ what, referrer: "no-referrer" });
}

beforeAll(async () => {
  webDir = mkdtempSync(path.join(tmpdir(), "parley-web-headers-"));
  mkdirSync(path.join(webDir, "assets"));
  writeFileSync(path.join(webDir, "index.html"), indexBody);
  writeFileSync(path.join(webDir, ASSET), assetBody);
  writeFileSync(path.join(webDir, `${ASSET}.map`), '{"version":3,"sources":["secret.ts"]}');
  writeFileSync(path.join(webDir, "app.js.map"), "{}");
  writeFileSync(path.join(webDir, "assets", "logo.png"), Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]));
  stack = await startLocalStack({ gateways: 1, inMemory: true, gatewayEnv: { [env.webDir]: webDir } });
  base = stack.url;
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  rmSync(webDir, { recursive: true, force: true });
});

describe("security headers on every response", () => {
  test("the page: CSP, nosniff, no-referrer, no-cache; page-like paths get the same index.html", async () => {
    for (const p of ["/", "/index.html", "/chats/some-route"]) {
      const r = await rawGet(p);
      expect({ p, status: r.status }).toEqual({ p, status: 200 });
      expect(r.headers["content-type"]).toMatch(/^text\/html/);
      expect(r.headers["cache-control"]).toBe("no-cache");
      expectSecurityHeaders(r.headers, p);
      expect(r.body.toString()).toBe(indexBody);
    }
  });

  test("a hashed asset: immutable for a year, same security headers", async () => {
    const r = await rawGet(ASSET);
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toMatch(/^text\/javascript/);
    expect(r.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expectSecurityHeaders(r.headers, ASSET);
    expect(r.body.toString()).toBe(assetBody);
  });

  test("API routes (answered and refused) and /healthz carry them too", async () => {
    const u = await signup(base, "hdr");
    const cases: [string, Record<string, string>, number][] = [
      ["/api/me", { authorization: `Bearer ${u.token}` }, 200],
      ["/api/conversations", {}, 401],
      ["/api/nope", {}, 404],
      ["/healthz", {}, 200],
    ];
    for (const [p, headers, status] of cases) {
      const r = await rawGet(p, headers);
      expect({ p, status: r.status }).toEqual({ p, status });
      expect(r.headers["cache-control"]).toBe("no-store");
      expectSecurityHeaders(r.headers, p);
    }
  });

  test("a refused WebSocket upgrade carries them too", async () => {
    const ws = new WebSocket(base.replace(/^http/, "ws") + "/ws", [WS_PROTOCOL], { origin: base });
    const headers = await new Promise<IncomingHttpHeaders>((resolve, reject) => {
      ws.on("unexpected-response", (_req, res) => {
        expect(res.statusCode).toBe(401);
        res.resume();
        resolve(res.headers);
      });
      ws.on("open", () => reject(new Error("upgrade unexpectedly accepted")));
      ws.on("error", () => undefined);
    });
    expectSecurityHeaders(headers, "refused upgrade");
  });
});

describe("what the static server refuses", () => {
  test.each([`${ASSET}.map`, "/app.js.map", "/APP.JS.MAP", "/assets/missing.js", "/assets/no-extension"])(
    "%s → 404",
    async (p) => {
      const r = await rawGet(p);
      expect(r.status).toBe(404);
      expect(r.body.toString()).not.toContain("secret.ts");
      expect(r.body.toString()).not.toContain("<!doctype html>");
    },
  );
});

describe("compression", () => {
  test.each([
    ["br", "br", brotliDecompressSync],
    ["gzip, deflate", "gzip", gunzipSync],
    ["gzip;q=1.0, br;q=0", "gzip", gunzipSync],
    ["br;q=0.5, gzip;q=0.8", "gzip", gunzipSync],
    ["*", "br", brotliDecompressSync],
  ] as const)("Accept-Encoding: %s → %s, decoding to the file", async (accept, encoding, decode) => {
    for (const [p, body] of [
      [ASSET, assetBody],
      ["/", indexBody],
    ] as const) {
      const r = await rawGet(p, { "accept-encoding": accept });
      expect(r.status).toBe(200);
      expect(r.headers["content-encoding"]).toBe(encoding);
      expect(r.headers.vary).toMatch(/accept-encoding/i);
      expect(Number(r.headers["content-length"])).toBe(r.body.length);
      expect(decode(r.body).toString()).toBe(body);
      if (p === ASSET) expect(r.body.length).toBeLessThan(assetBody.length / 4);
    }
  });

  test("no Accept-Encoding (or only unknown ones) → the file as is, still Vary: Accept-Encoding", async () => {
    for (const headers of [{}, { "accept-encoding": "identity" }, { "accept-encoding": "zstd" }] as Record<
      string,
      string
    >[]) {
      const r = await rawGet(ASSET, headers);
      expect(r.headers["content-encoding"]).toBeUndefined();
      expect(r.headers.vary).toMatch(/accept-encoding/i);
      expect(r.body.toString()).toBe(assetBody);
    }
  });

  test("binary files are not recompressed", async () => {
    const r = await rawGet("/assets/logo.png", { "accept-encoding": "br, gzip" });
    expect(r.status).toBe(200);
    expect(r.headers["content-encoding"]).toBeUndefined();
    expect(r.headers["content-type"]).toBe("image/png");
  });
});

describe("the client build", () => {
  test("web/index.html and the built page have no inline script, style or event handler (the CSP forbids them)", () => {
    const pages = [path.join(repoRoot, "web/index.html"), path.join(repoRoot, "web/dist/index.html")].filter((p) =>
      existsSync(p),
    );
    expect(pages.length).toBeGreaterThan(0);
    for (const page of pages) {
      const html = readFileSync(page, "utf8");
      for (const tag of html.match(/<script\b[^>]*>/gi) ?? []) expect(tag).toMatch(/\bsrc=/);
      expect(html).not.toMatch(/<script\b[^>]*>\s*[^<\s]/i);
      expect(html).not.toMatch(/<style\b/i);
      expect(html).not.toMatch(/\son[a-z]+\s*=/i);
      expect(html).not.toMatch(/\sstyle\s*=/i);
    }
  });

  test("production builds emit no source maps (vite build.sourcemap is false)", () => {
    const config = readdirSync(path.join(repoRoot, "web")).find((f) => /^vite\.config\.m?[jt]s$/.test(f));
    expect(config).toBeDefined();
    expect(readFileSync(path.join(repoRoot, "web", config!), "utf8")).toMatch(/sourcemap:\s*false/);
  });
});
