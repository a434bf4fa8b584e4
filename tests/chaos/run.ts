/**
 * `npm run test:chaos [-- --long] [--only name,name] [--seed n]`: runs every chaos scenario against one local
 * stack of real processes and prints the table (scenario, rounds, lost / duplicated / reordered /
 * accepted-bad-input, recovery times). Exits 1 if any count is non-zero or a scenario failed.
 */
import { CliError, defineCli, int, parseCli, runCli } from "../../runtime/cli/args";
import { seededRandom } from "../support/pipeline";
import { formatTable, passed, startChaosContext, type ScenarioResult } from "./kit";
import { scenarios } from "./scenarios";

const chaosCli = defineCli({
  command: "npm run test:chaos --",
  summary:
    "Every chaos scenario against one local stack of real processes; prints the table and exits 1 if any count " +
    "is non-zero or a scenario failed.",
  maxPositionals: 0,
  options: {
    long: { type: "boolean", description: "more rounds per scenario" },
    only: { type: "string", value: "names", description: "comma-separated scenarios to run", defaultText: "all" },
    seed: { type: "string", value: "n", description: "random seed", defaultText: "from the clock", parse: int(0) },
    verbose: { type: "boolean", description: "print each scenario's progress" },
  },
});

async function main(): Promise<number> {
  const { values } = parseCli(chaosCli, process.argv.slice(2));
  const seed = values.seed ?? Date.now() % 1_000_000;
  const only = values.only?.split(",").map((s) => s.trim());
  const unknown = only?.filter((n) => !scenarios.some((s) => s.name === n)) ?? [];
  if (unknown.length) {
    throw new CliError(
      `unknown scenario(s): ${unknown.join(", ")}; known: ${scenarios.map((s) => s.name).join(", ")}`,
      2,
    );
  }
  const selected = scenarios.filter((s) => !only || only.includes(s.name));
  console.log(
    `chaos: ${values.long ? "long" : "bounded"} run, seed ${seed}, scenarios ${selected.map((s) => s.name).join(", ")}`,
  );

  const started = Date.now();
  const ctx = await startChaosContext({
    gateways: 2,
    random: seededRandom(seed),
    log: (line) => (values.verbose ? console.log(`  ${line}`) : undefined),
  });
  const results: ScenarioResult[] = [];
  try {
    for (const s of selected) {
      const t = Date.now();
      try {
        const r = await s.run(ctx, values.long);
        results.push(r);
        console.log(`  ${passed(r) ? "pass" : "FAIL"} ${s.name} (${Date.now() - t} ms): ${r.notes}`);
      } catch (err) {
        results.push({
          scenario: s.name,
          rounds: 0,
          messages: 0,
          lost: 0,
          duplicated: 0,
          reordered: 0,
          acceptedBadInput: 0,
          recoveryMs: [],
          failures: [`crashed: ${(err as Error).message.split("\n")[0]}`],
          notes: "",
        });
        console.log(`  FAIL ${s.name} (${Date.now() - t} ms): ${(err as Error).stack}`);
      }
    }
  } finally {
    await ctx.close();
  }
  console.log(`\n${formatTable(results)}\n`);
  console.log(`total ${Math.round((Date.now() - started) / 1000)} s, seed ${seed}`);
  return results.every(passed) ? 0 : 1;
}

void runCli("test:chaos", main);
