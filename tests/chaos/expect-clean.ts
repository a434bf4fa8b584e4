/** The jest verdict every bounded chaos test gives a scenario: no failure and nothing lost, doubled or reordered. */
import { passed, type ScenarioResult } from "./kit";

export function expectClean(r: ScenarioResult): void {
  expect(r.failures).toEqual([]);
  expect({ lost: r.lost, duplicated: r.duplicated, reordered: r.reordered, bad: r.acceptedBadInput }).toEqual({
    lost: 0,
    duplicated: 0,
    reordered: 0,
    bad: 0,
  });
  expect(passed(r)).toBe(true);
}
