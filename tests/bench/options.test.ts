import { UsageError } from "../../runtime/cli/args";
import { fullPreset, parseBenchOptions, quickPreset } from "../../bench/options";

describe("bench options", () => {
  it("--quick shortens the run and keeps everything else of the full preset", () => {
    const changed = Object.keys(fullPreset).filter(
      (k) =>
        JSON.stringify(fullPreset[k as keyof typeof fullPreset]) !==
        JSON.stringify(quickPreset[k as keyof typeof quickPreset]),
    );
    // prettier-ignore
    expect(changed.sort()).toEqual([
      "clients", "drainMs", "durationS", "quick", "rate", "rounds", "settleMaxMs", "settleMs",
      "sweepDurationS", "sweepRates", "syncMessages", "warmupS",
    ]);
    expect(quickPreset).toMatchObject({ quick: true, clients: 100, rounds: 1, warmupS: 0 });
    // Both idle windows are one heartbeat period: a gateway refreshes all its records at once.
    expect(quickPreset.idleMs).toBe(fullPreset.idleMs);
    expect(fullPreset).toMatchObject({ quick: false, clients: 1000, rounds: 2 });
  });

  it("picks the preset with --quick and takes single values from the command line", () => {
    expect(parseBenchOptions([])).toEqual(fullPreset);
    expect(parseBenchOptions(["--quick"])).toEqual(quickPreset);
    expect(
      parseBenchOptions(["--quick", "--clients", "40", "--drain", "1.5", "--sweep", "0", "--systems", "relay"]),
    ).toEqual({ ...quickPreset, clients: 40, drainMs: 1_500, sweepRates: [], systems: ["relay"] });
  });

  it("refuses values outside an option's bounds", () => {
    expect(() => parseBenchOptions(["--runner-batch", "11"])).toThrow(UsageError);
    expect(() => parseBenchOptions(["--systems", "parley,kafka"])).toThrow(UsageError);
  });
});
