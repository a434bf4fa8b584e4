/**
 * .github/workflows/preview.yml parses and does what deploy-ready asks, in order: build the image, run it and hit
 * /healthz, then (in the jobs that need it) preview with a diff, and after an ephemeral up a preview that expects
 * no changes, then destroy. The script's own steps are unit-tested in tests/unit/ephemeral-stack.test.ts.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";

// js-yaml arrives with eslint (no types of its own); only `load` is used.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { load } = require("js-yaml") as { load(text: string): unknown };

interface Step {
  readonly name?: string;
  readonly run?: string;
  readonly uses?: string;
  readonly if?: string;
}
interface Job {
  readonly needs?: string | string[];
  readonly if?: string;
  readonly steps: Step[];
}

const workflow = load(readFileSync(path.join(__dirname, "../../.github/workflows/preview.yml"), "utf8")) as {
  jobs: Record<string, Job>;
};
const jobs = workflow.jobs;
const text = (s: Step) => `${s.name ?? ""}\n${s.run ?? ""}`;
const needs = (j: Job) => (j.needs === undefined ? [] : typeof j.needs === "string" ? [j.needs] : j.needs);

/** The steps of `job` after the steps of every job it needs, as one run would execute them. */
function stepsInOrder(job: string): Step[] {
  const j = jobs[job]!;
  return [...needs(j).flatMap(stepsInOrder), ...j.steps];
}

function indexOf(steps: Step[], what: RegExp): number {
  const i = steps.findIndex((s) => what.test(text(s)));
  if (i < 0) throw new Error(`no step matches ${what}: ${steps.map((s) => s.name ?? s.run ?? s.uses).join(" | ")}`);
  return i;
}

describe(".github/workflows/preview.yml", () => {
  test("builds the image and runs it read-only against the emulators before anything touches AWS", () => {
    const image = jobs.image!;
    expect(image.if).toBeUndefined(); // no secrets needed: pull requests from forks get it too
    const build = indexOf(image.steps, /docker build\b.* \.$/m);
    const run = indexOf(image.steps, /scripts\/ephemeral-image-check\.ts/);
    expect(build).toBeLessThan(run);
    expect(image.steps[run]!.name).toMatch(/read-only.*\/healthz/);
    expect(needs(jobs.preview!)).toContain("image");
    expect(needs(jobs.up!)).toContain("image");
  });

  test("on a pull request: build, healthz, then preview --diff, and the policy pack only when policy/ exists", () => {
    const steps = stepsInOrder("preview");
    const order = [/docker build/, /healthz/, /stack:ephemeral -- preview --diff/].map((r) => indexOf(steps, r));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    const pack = steps[indexOf(steps, /--policy-pack policy/)]!;
    expect(pack.name).toBe("pulumi preview --policy-pack policy");
    expect(pack.if).toBe("hashFiles('policy/PulumiPolicy.yaml') != ''");
  });

  test("on dispatch: build, healthz, up with the idempotency preview (expect-no-changes), then destroy", () => {
    const steps = stepsInOrder("up");
    const build = indexOf(steps, /docker build/);
    const healthz = indexOf(steps, /healthz/);
    const up = indexOf(steps, /expect-no-changes/);
    expect(steps[up]!.run).toMatch(/args=\(up --diff /);
    const destroy = indexOf(steps, /stack:ephemeral -- destroy/);
    expect([build, healthz, up, destroy]).toEqual([...[build, healthz, up, destroy]].sort((a, b) => a - b));
    expect(new Set([build, healthz, up, destroy]).size).toBe(4);
    expect(steps[destroy]!.if).toMatch(/^always\(\)/);
  });
});
