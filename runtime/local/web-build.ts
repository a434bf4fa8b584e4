/**
 * Builds the web client through Vite's JavaScript API (its supported entry point) when web/dist is missing or
 * older than its sources, so neither `npm start` nor the browser tests ever serve a stale client.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { repoRoot } from "./processes";

const webDir = path.join(repoRoot, "web");
export const webDistDir = path.join(webDir, "dist");
const configFile = path.join(webDir, "vite.config.mts");

/** What the client bundle is made of: its own sources and the contract modules it imports. */
const sources = [
  path.join(webDir, "src"),
  path.join(webDir, "index.html"),
  configFile,
  path.join(repoRoot, "runtime/contracts"),
];

function newestMtime(p: string): number {
  if (!existsSync(p)) return 0;
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  return readdirSync(p).reduce((m, name) => Math.max(m, newestMtime(path.join(p, name))), st.mtimeMs);
}

type ViteBuild = (config: { configFile: string; logLevel: "warn" }) => Promise<unknown>;

export type WebBuildState = "missing" | "stale" | "fresh";

export function webBuildState(): WebBuildState {
  if (!existsSync(path.join(webDistDir, "index.html"))) return "missing";
  return newestMtime(webDistDir) >= Math.max(...sources.map(newestMtime)) ? "fresh" : "stale";
}

/** Runs `vite build` in this process; resolves when web/dist is written. */
export async function buildWebClient(): Promise<void> {
  // vite is ESM-only: a dynamic import keeps this module loadable from CommonJS. Its types need "bundler"
  // resolution, which the Pulumi program's tsconfig does not use, so the one function used is typed here.
  const { build } = (await import("vite" as string)) as { build: ViteBuild };
  await build({ configFile, logLevel: "warn" });
}

/** Builds when missing or stale; returns what it found, so callers can say why they built. */
export async function ensureWebBuilt(): Promise<WebBuildState> {
  const state = webBuildState();
  if (state !== "fresh") await buildWebClient();
  return state;
}

// `node --import tsx runtime/local/web-build.ts`: the same build from a process that can load ESM (jest cannot).
if (require.main === module) {
  ensureWebBuilt().catch((err: unknown) => {
    console.error(`web build failed: ${(err as Error).message}`);
    process.exit(1);
  });
}
