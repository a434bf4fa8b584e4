import path from "node:path";
import { repoRoot } from "../../runtime/local/processes";
import { UsageError } from "../../runtime/cli/args";
import { fullPreset, parseBenchOptions, quickPreset } from "../../bench/options";

// The values each preset had when both were written out in bench/run.ts; the presets must keep them.
const quickValues = {
  quick: true,
  clients: 100,
  gateways: 2,
  rate: 100,
  durationS: 3,
  rounds: 1,
  sweepRates: [100, 200],
  sweepDurationS: 3,
  drainMs: 2_000,
  settleMaxMs: 4_000,
  bodyBytes: 100,
  settleMs: 500,
  idleMs: 2_000,
  warmupS: 0,
  syncMessages: 50,
  runnerConcurrency: 8,
  runnerBatchSize: 10,
  profile: false,
  heap: false,
  systems: ["parley", "relay", "socketio"],
  outDir: path.join(repoRoot, "bench/results"),
  seed: 7,
};
const fullValues = {
  ...quickValues,
  quick: false,
  clients: 1000,
  rate: 50,
  durationS: 10,
  rounds: 2,
  sweepRates: [25, 50, 100, 250, 500, 1000, 2000],
  sweepDurationS: 6,
  drainMs: 5_000,
  settleMaxMs: 20_000,
  settleMs: 3_000,
  idleMs: 25_000,
  warmupS: 5,
  syncMessages: 1000,
};

describe("bench options", () => {
  it("keeps both presets' values", () => {
    expect(quickPreset).toEqual(quickValues);
    expect(fullPreset).toEqual(fullValues);
  });

  it("picks the preset with --quick and takes single values from the command line", () => {
    expect(parseBenchOptions([])).toEqual(fullValues);
    expect(parseBenchOptions(["--quick"])).toEqual(quickValues);
    expect(
      parseBenchOptions(["--quick", "--clients", "40", "--drain", "1.5", "--sweep", "0", "--systems", "relay"]),
    ).toEqual({ ...quickValues, clients: 40, drainMs: 1_500, sweepRates: [], systems: ["relay"] });
  });

  it("refuses values outside an option's bounds", () => {
    expect(() => parseBenchOptions(["--runner-batch", "11"])).toThrow(UsageError);
    expect(() => parseBenchOptions(["--systems", "parley,kafka"])).toThrow(UsageError);
  });
});
