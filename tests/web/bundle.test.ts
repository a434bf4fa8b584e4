/**
 * The first screen's JavaScript budget: a real `vite build` (into a temporary directory, so a browser suite
 * serving web/dist is not disturbed) must print the entry chunk's gzip size, and that size must fit.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";

const repoRoot = path.resolve(__dirname, "../..");
const BUDGET_KB = 100; // web/vite.config.mts ENTRY_BUDGET_KB (kB of 1,000 bytes)

jest.setTimeout(120_000);

describe("web bundle", () => {
  const outDir = mkdtempSync(path.join(tmpdir(), "parley-web-"));
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it(`keeps the entry chunk within ${BUDGET_KB} kB gzip, and the build says how big it is`, () => {
    const vite = path.join(repoRoot, "node_modules/vite/bin/vite.js");
    const output = execFileSync(
      process.execPath,
      [vite, "build", "--config", "web/vite.config.mts", "--outDir", outDir, "--emptyOutDir"],
      // Under jest's NODE_ENV=test on purpose: the config must still bundle React's production build.
      { cwd: repoRoot, encoding: "utf8", stdio: "pipe" },
    );
    const printed = /entry chunk (assets\/\S+\.js): ([\d.]+) kB gzip \(budget (\d+) kB\)/.exec(output);
    expect(printed).not.toBeNull();
    expect(Number(printed![3])).toBe(BUDGET_KB);

    // The chunk index.html loads is the one measured, and the number printed is its real size.
    const html = readFileSync(path.join(outDir, "index.html"), "utf8");
    const src = /<script type="module"[^>]*src="\/(assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(src).toBe(printed![1]);
    const code = readFileSync(path.join(outDir, src!));
    expect(code.includes("jsxDEV")).toBe(false); // production JSX, matching React's production runtime
    const gzipKb = gzipSync(code).length / 1000;
    expect(Number(printed![2])).toBeCloseTo(gzipKb, 1);
    expect(gzipKb).toBeLessThanOrEqual(BUDGET_KB);
  });
});
