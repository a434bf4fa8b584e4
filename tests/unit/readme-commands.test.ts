/**
 * Run what the user runs: every npm command the README names must be run, as written, by some test or by
 * `.ci/run`. "As written" means the command's text appears verbatim in a test source or the CI script, where a
 * test may append options the README also names (a port, a data folder). A `<placeholder>` matches anything.
 * The few commands that cannot run here are listed below with the reason; the list is checked too.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

const root = path.resolve(__dirname, "../..");

/** Commands the README names that no test runs as written, and why. Each must still be in the README. */
const notRunHere: Record<string, string> = {
  "npm run bench": "the full benchmark takes minutes; `npm run bench -- --quick` runs in tests/bench/quick.test.ts",
  "npm install --no-save amplify-dynamodb-simulator":
    "opt-in: it installs DynamoDB Local, under Amazon's own licence, which the project does not accept for its users",
};

function readmeNpmCommands(readme: string): string[] {
  const found = new Set<string>();
  // Code blocks: one command per line, comments dropped, `a && b` split.
  for (const block of readme.matchAll(/```(?:sh|bash|shell)\n([\s\S]*?)```/g)) {
    for (const line of block[1]!.split("\n")) {
      for (const part of line.replace(/\s+#.*$/, "").split("&&")) {
        const cmd = part.trim();
        if (/^npm\s/.test(cmd)) found.add(cmd);
      }
    }
  }
  // Inline code spans outside code blocks.
  const prose = readme.replace(/```[\s\S]*?```/g, "");
  for (const span of prose.matchAll(/`(npm [^`]+)`/g)) found.add(span[1]!.trim());
  return [...found];
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return /\.(ts|tsx|cjs|mjs)$/.test(name) ? [p] : [];
  });
}

/** Code without its comments and test titles: a command only named there is not a command run. */
const withoutComments = (text: string) =>
  text
    .replace(/\b(?:it|test|describe)(?:\.each\([^)]*\))?\(\s*(["'`])(?:(?!\1)[^\\]|\\.)*\1/g, "")
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/(^|\s)\/\/.*$/gm, "$1")
    .replace(/^\s*#.*$/gm, "");

/** Where commands run: test sources and the CI script. */
function runners(): { file: string; text: string }[] {
  return [...sources(path.join(root, "tests")), path.join(root, ".ci/run")]
    .filter((f) => f !== __filename)
    .map((file) => ({ file: path.relative(root, file), text: withoutComments(readFileSync(file, "utf8")) }));
}

/** The command as a test would spell it: placeholders cut the match short. */
const matchable = (cmd: string) => cmd.split(/\s*<[^>]+>/)[0]!.trim();

describe("README commands", () => {
  const readme = readFileSync(path.join(root, "README.md"), "utf8");
  const commands = readmeNpmCommands(readme);
  const where = runners();

  test("the README names its two first commands", () => {
    expect(commands).toEqual(expect.arrayContaining(["npm install", "npm start", "npm test"]));
  });

  test("every npm command in the README is run, as written, by a test or by .ci/run", () => {
    const unrun = commands
      .filter((cmd) => !(cmd in notRunHere))
      .filter((cmd) => !where.some((r) => r.text.includes(matchable(cmd))));
    expect(unrun).toEqual([]);
  });

  test("every exemption is still a README command (stale exemptions go)", () => {
    expect(Object.keys(notRunHere).filter((cmd) => !commands.includes(cmd))).toEqual([]);
  });
});
