/**
 * `pulumi new`-ready: Pulumi.yaml's `template:` section prompts for every key the program reads
 * (components/config-keys.ts) with the same description and default as the top-level `config:` block, and
 * docs/deploy.md's table lists every key with that default.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { configKeys, type ConfigKeySpec } from "../../components/config-keys";

// js-yaml arrives with eslint (no types of its own); only `load` is used.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { load } = require("js-yaml") as { load(text: string): unknown };

const root = path.join(__dirname, "../..");
interface Declared {
  readonly description?: string;
  readonly default?: unknown;
}
const project = load(readFileSync(path.join(root, "Pulumi.yaml"), "utf8")) as {
  config: Record<string, Declared>;
  template: { description: string; config: Record<string, Declared> };
};
const keys = Object.keys(configKeys) as (keyof typeof configKeys)[];
/** Pulumi.yaml writes an optional key without a value as default "". */
const defaultOf = (key: keyof typeof configKeys) => {
  const spec: ConfigKeySpec = configKeys[key];
  return spec.default === undefined ? "" : String(spec.default);
};

describe("Pulumi.yaml template section", () => {
  test("has a description and asks for the region", () => {
    expect(project.template.description.length).toBeGreaterThan(20);
    expect(project.template.config["aws:region"]).toMatchObject({ default: "us-east-1" });
  });

  test.each(keys)("%s: in config and template, same description and default", (key) => {
    const top = project.config[key];
    const prompt = project.template.config[key];
    expect(top).toBeDefined();
    expect(prompt).toBeDefined();
    expect(prompt!.description).toBe(configKeys[key].description);
    expect(top!.description).toBe(configKeys[key].description);
    // Template defaults are strings (what `pulumi new` writes into the stack config).
    expect(prompt!.default).toBe(defaultOf(key));
    expect(String(top!.default)).toBe(defaultOf(key));
  });

  test("prompts for nothing the program does not read", () => {
    expect(Object.keys(project.template.config).sort()).toEqual(["aws:region", ...keys].sort());
  });
});

describe("docs/deploy.md", () => {
  const doc = readFileSync(path.join(root, "docs/deploy.md"), "utf8");
  const rows = new Map(
    doc
      .split("\n")
      .filter((l) => l.startsWith("| `parley:"))
      .map((l) => {
        const cells = l.split("|").map((c) => c.trim());
        return [cells[1]!.replace(/`/g, ""), cells] as const;
      }),
  );

  test.each(keys)("lists parley:%s with its default and description", (key) => {
    const row = rows.get(`parley:${key}`);
    expect(row).toBeDefined();
    const shown = row![3]!.replace(/`/g, "");
    expect(shown).toBe(defaultOf(key) === "" ? "—" : defaultOf(key));
    expect(row![4]!.replace(/`/g, "")).toContain(configKeys[key].description);
  });

  test("says what was not verified here, the HTTPS rule, the NAT choices and the monthly cost", () => {
    expect(doc).toMatch(/## What was not verified here/);
    expect(doc).toMatch(/parley:certificateArn.*required.*parley:allowInsecureHttp/s);
    for (const nat of ["Single", "OnePerAz", "None"]) expect(doc).toContain(`\`${nat}\``);
    expect(doc).toMatch(/## Cost of a minimal stack/);
    expect(doc).toContain("pulumi new");
  });
});
