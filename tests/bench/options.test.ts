import { UsageError } from "../../runtime/cli/args";
import { formatMix, fullPreset, parseBenchOptions, parseMix, quickPreset } from "../../bench/options";

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

  describe("--mix", () => {
    it("is off unless given, and takes percent per kind with the kinds left out at 0", () => {
      expect(fullPreset.mix).toBeNull();
      expect(quickPreset.mix).toBeNull();
      expect(parseBenchOptions(["--quick", "--mix", "messages=80,reactions=10,edits=5,receipts=5"])).toEqual({
        ...quickPreset,
        mix: { messages: 80, reactions: 10, edits: 5, receipts: 5 },
      });
      expect(parseMix("receipts=2.5, messages = 97.5", "--mix")).toEqual({
        messages: 97.5,
        reactions: 0,
        edits: 0,
        receipts: 2.5,
      });
      expect(parseMix("receipts=100", "--mix")).toEqual({ messages: 0, reactions: 0, edits: 0, receipts: 100 });
      expect(formatMix(parseMix("edits=5,messages=95", "--mix"))).toBe("messages=95,edits=5");
    });

    it.each([
      ["messages=80,reactions=10", "--mix: the percentages must add up to 100, got 90"],
      ["messages=80,reactions=30", "--mix: the percentages must add up to 100, got 110"],
      ["messages=90,likes=10", '--mix: unknown kind "likes" (one of messages, reactions, edits, receipts)'],
      ["messages=50,messages=50", "--mix: messages given twice"],
      ["messages=80,reactions", '--mix takes kind=percent pairs, e.g. messages=80,reactions=20; got "reactions"'],
      ["messages=-5,reactions=105", '--mix takes kind=percent pairs, e.g. messages=80,reactions=20; got "messages=-5"'],
      ["reactions=50,receipts=50", "--mix: reactions and edits target recent messages, so messages must be above 0"],
    ])("refuses %s in one line", (raw, message) => {
      expect(() => parseBenchOptions(["--mix", raw])).toThrow(new UsageError(message));
    });

    it("needs Parley among the systems, and a value", () => {
      expect(() => parseBenchOptions(["--systems", "relay", "--mix", "messages=100"])).toThrow(
        new UsageError("--mix needs parley in --systems"),
      );
      expect(() => parseBenchOptions(["--mix"])).toThrow(UsageError);
    });
  });
});
