/**
 * The import-cycle check `npm run lint` runs: every import between the project's own files, resolved the way
 * TypeScript resolves it under each tsconfig, and each circle reported import by import.
 *
 * Type-only imports count. ESLint's import-x/no-cycle skips them, but a circle of types still ties the modules'
 * designs to each other (the gateway's internal → presence → routing → internal circle was two `import type`
 * lines and one value import); the way out is a small interface in the module that needs it.
 */
import path from "node:path";
import ts from "typescript";

/** One import of a project file by another: `line` is where `from` names `to`. */
export interface ImportEdge {
  readonly from: string;
  readonly to: string;
  readonly line: number;
}

/** Importing file → the project files it imports (absolute paths; node_modules and .d.ts files left out). */
export type ImportGraph = ReadonlyMap<string, readonly ImportEdge[]>;

/** The import graph of the files the given tsconfigs include, merged (a file in two projects is read once). */
export function importGraph(tsconfigPaths: readonly string[]): ImportGraph {
  const graph = new Map<string, ImportEdge[]>();
  for (const configPath of tsconfigPaths) {
    const config = readTsconfig(configPath);
    const cache = ts.createModuleResolutionCache(path.dirname(configPath), (f) => f, config.options);
    for (const file of config.fileNames) {
      if (graph.has(file)) continue;
      const text = ts.sys.readFile(file) ?? "";
      const edges: ImportEdge[] = [];
      // Reads import/export declarations, import() and require() without a full parse.
      for (const ref of ts.preProcessFile(text, true, true).importedFiles) {
        const resolved = ts.resolveModuleName(ref.fileName, file, config.options, ts.sys, cache).resolvedModule;
        if (!resolved || resolved.isExternalLibraryImport || resolved.resolvedFileName.endsWith(".d.ts")) continue;
        edges.push({ from: file, to: path.resolve(resolved.resolvedFileName), line: lineOf(text, ref.pos) });
      }
      graph.set(file, edges);
    }
  }
  return graph;
}

/**
 * One cycle per strongly connected component of the graph (Tarjan): the shortest circle through the component's
 * first file in path order, as the imports that make it up. Empty when the graph has no cycle.
 */
export function findImportCycles(graph: ImportGraph): ImportEdge[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (file: string): void => {
    index.set(file, index.size);
    low.set(file, index.get(file)!);
    stack.push(file);
    onStack.add(file);
    for (const { to } of graph.get(file) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(file, Math.min(low.get(file)!, low.get(to)!));
      } else if (onStack.has(to)) {
        low.set(file, Math.min(low.get(file)!, index.get(to)!));
      }
    }
    if (low.get(file) !== index.get(file)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== file);
    const selfImport = (graph.get(file) ?? []).some((e) => e.to === file);
    if (component.length > 1 || selfImport) components.push(component.sort());
  };
  for (const file of [...graph.keys()].sort()) if (!index.has(file)) visit(file);
  return components.sort((a, b) => a[0]!.localeCompare(b[0]!)).map((c) => shortestCircle(graph, c));
}

/** Breadth-first from the component's first file back to itself, staying inside the component. */
function shortestCircle(graph: ImportGraph, component: readonly string[]): ImportEdge[] {
  const start = component[0]!;
  const inComponent = new Set(component);
  const reachedBy = new Map<string, ImportEdge>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    for (const edge of graph.get(queue[i]!) ?? []) {
      if (!inComponent.has(edge.to)) continue;
      if (edge.to === start) {
        const circle = [edge];
        for (let at = edge.from; at !== start; at = reachedBy.get(at)!.from) circle.unshift(reachedBy.get(at)!);
        return circle;
      }
      if (!reachedBy.has(edge.to)) {
        reachedBy.set(edge.to, edge);
        queue.push(edge.to);
      }
    }
  }
  throw new Error(`no circle through ${start} inside its own component`);
}

/** The report lines for the cycles, paths relative to `root`. */
export function describeCycles(cycles: readonly ImportEdge[][], root: string): string[] {
  const rel = (f: string) => path.relative(root, f);
  return cycles.flatMap((circle) => [
    `import cycle: ${[...circle.map((e) => rel(e.from)), rel(circle[0]!.from)].join(" → ")}`,
    ...circle.map((e) => `  ${rel(e.from)}:${e.line} imports ${rel(e.to)}`),
  ]);
}

function readTsconfig(configPath: string): ts.ParsedCommandLine {
  const host: ts.ParseConfigFileHost = {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(`${configPath}: ${ts.flattenDiagnosticMessageText(d.messageText, " ")}`);
    },
  };
  const config = ts.getParsedCommandLineOfConfigFile(configPath, {}, host);
  if (!config) throw new Error(`${configPath}: cannot be read`);
  return config;
}

function lineOf(text: string, pos: number): number {
  let line = 1;
  for (let i = text.indexOf("\n"); i !== -1 && i < pos; i = text.indexOf("\n", i + 1)) line++;
  return line;
}
