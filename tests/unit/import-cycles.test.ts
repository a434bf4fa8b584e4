import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describeCycles, findImportCycles, importGraph, type ImportGraph } from "../../scripts/lint/import-cycles";

function graphOf(edges: Record<string, string[]>): ImportGraph {
  return new Map(Object.entries(edges).map(([from, tos]) => [from, tos.map((to, i) => ({ from, to, line: i + 1 }))]));
}

describe("findImportCycles", () => {
  it("finds nothing in a graph without circles", () => {
    expect(findImportCycles(graphOf({ "/a": ["/b", "/c"], "/b": ["/c"], "/c": [] }))).toEqual([]);
  });

  it("reports each circle once, as its shortest loop from the first file", () => {
    const cycles = findImportCycles(
      graphOf({ "/a": ["/b"], "/b": ["/c", "/a"], "/c": ["/a"], "/x": ["/y"], "/y": ["/x"], "/z": ["/z"] }),
    );
    expect(cycles.map((c) => c.map((e) => `${e.from}>${e.to}`))).toEqual([
      ["/a>/b", "/b>/a"],
      ["/x>/y", "/y>/x"],
      ["/z>/z"],
    ]);
  });
});

describe("importGraph", () => {
  it("resolves through the tsconfig and counts type-only imports", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "parley-cycles-"));
    mkdirSync(path.join(dir, "lib"));
    writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify({ include: ["**/*.ts"] }));
    writeFileSync(path.join(dir, "lib/index.ts"), 'export * from "./a";\n');
    writeFileSync(path.join(dir, "lib/a.ts"), 'import type { B } from "./b";\nexport type A = { b?: B };\n');
    writeFileSync(
      path.join(dir, "lib/b.ts"),
      'import { z } from "zod";\n\nimport type { A } from ".";\nexport type B = A;\n',
    );

    const cycles = findImportCycles(importGraph([path.join(dir, "tsconfig.json")]));
    rmSync(dir, { recursive: true });

    expect(describeCycles(cycles, dir)).toEqual([
      "import cycle: lib/a.ts → lib/b.ts → lib/index.ts → lib/a.ts",
      "  lib/a.ts:1 imports lib/b.ts",
      "  lib/b.ts:3 imports lib/index.ts",
      "  lib/index.ts:1 imports lib/a.ts",
    ]);
  });
});
