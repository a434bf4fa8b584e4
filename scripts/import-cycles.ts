/**
 * `npm run lint` step: exits 1 and prints each import cycle among the project's files (scripts/lint/import-cycles.ts
 * says what counts). The tsconfigs listed are every TypeScript project in the repository.
 */
import path from "node:path";
import { CliError, runCli } from "../runtime/cli/args";
import { describeCycles, findImportCycles, importGraph } from "./lint/import-cycles";

const root = path.resolve(__dirname, "..");
const tsconfigs = ["tsconfig.json", "web/tsconfig.json", "policy/tsconfig.json"].map((p) => path.join(root, p));

void runCli("import-cycles", () => {
  const graph = importGraph(tsconfigs);
  const cycles = findImportCycles(graph);
  if (cycles.length > 0) {
    for (const line of describeCycles(cycles, root)) console.error(line);
    throw new CliError(`${cycles.length} import cycle(s); break each with an interface owned by the importer`);
  }
  console.log(`import-cycles: none among ${graph.size} files`);
});
