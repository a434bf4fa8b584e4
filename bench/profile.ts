/** Summarizes V8 `.cpuprofile` files (from `--cpu-prof`): self time by function and by area (package, GC…). */
import { readFileSync } from "node:fs";
import type { ProfileEntry } from "./report";

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }[];
  samples: number[];
  timeDeltas: number[];
}

/** Which part of the stack a frame belongs to: an npm package, a Parley folder, Node itself, or V8. */
export function areaOf(url: string, fn: string): string {
  if (!url) {
    if (fn === "(garbage collector)") return "GC";
    if (fn === "(idle)") return "idle";
    if (fn === "(program)") return "program (native, unattributed)";
    return "native";
  }
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) {
    const name = pkg[1]!;
    if (name.startsWith("@aws-sdk/") || name.startsWith("@smithy/") || name.startsWith("@aws-crypto/"))
      return "AWS SDK";
    return name;
  }
  const own = /\/(runtime\/[^/]+)\//.exec(url);
  if (own) return own[1]!;
  if (url.startsWith("node:")) return "node core";
  return "other";
}

const shortUrl = (url: string) =>
  url
    .replace(/^file:\/\//, "")
    .replace(/^.*\/node_modules\//, "")
    .replace(/^.*\/(runtime\/)/, "$1");

export function summarizeProfile(
  file: string,
  top = 20,
): { totalMs: number; top: ProfileEntry[]; byArea: Record<string, number> } {
  const prof = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  prof.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0)));
  const byFn = new Map<string, { fn: string; where: string; us: number }>();
  const byArea = new Map<string, number>();
  let busyUs = 0;
  for (const [id, us] of selfUs) {
    const n = byId.get(id);
    if (!n) continue;
    const { functionName, url, lineNumber } = n.callFrame;
    const area = areaOf(url, functionName);
    if (area === "idle") continue;
    busyUs += us;
    byArea.set(area, (byArea.get(area) ?? 0) + us);
    const fn = functionName || "(anonymous)";
    const where = url ? `${shortUrl(url)}:${lineNumber + 1}` : area;
    const key = `${fn}@${where}`;
    const e = byFn.get(key) ?? { fn, where, us: 0 };
    e.us += us;
    byFn.set(key, e);
  }
  const pct = (us: number) => (busyUs ? (us / busyUs) * 100 : 0);
  return {
    totalMs: busyUs / 1000,
    top: [...byFn.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((e) => ({ fn: e.fn, where: e.where, selfMs: e.us / 1000, selfPct: pct(e.us) })),
    byArea: Object.fromEntries([...byArea].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, pct(v)])),
  };
}
