import {
  CliError,
  defineCli,
  HelpRequested,
  httpUrl,
  int,
  num,
  oneOf,
  parseCli,
  runCli,
  usageText,
  UsageError,
} from "../../runtime/cli/args";

const spec = defineCli({
  command: "npm run thing --",
  args: "<go|stop>",
  maxPositionals: 1,
  positionals: [["go", "start going"]],
  options: {
    count: { type: "string", value: "n", description: "how many", default: 3, parse: int(1, 9) },
    url: { type: "string", value: "url", description: "where to", parse: httpUrl },
    ratio: { type: "string", description: "share", defaultText: "half", parse: num(0, 1) },
    mode: { type: "string", description: "flavour", default: "fast", parse: oneOf(["fast", "slow"]) },
    label: { type: "string", description: "free text" },
    loud: { type: "boolean", short: "l", description: "shout" },
  },
  notes: "Exit codes: 0 ok.",
});

const usageErrorOf = (argv: string[]): UsageError => {
  try {
    parseCli(spec, argv);
  } catch (err) {
    if (err instanceof UsageError) return err;
    throw err;
  }
  throw new Error(`parsed ${JSON.stringify(argv)} without an error`);
};

describe("usage text", () => {
  const text = usageText(spec);

  it("lists every option with its default, and --help", () => {
    const expected: [RegExp, string][] = [
      [/^ {2}--count <n> +how many \(default: 3\)$/m, "count"],
      [/^ {2}--url <url> +where to \(default: unset\)$/m, "url"],
      [/^ {2}--ratio <value> +share \(default: half\)$/m, "ratio"],
      [/^ {2}--mode <value> +flavour \(default: fast\)$/m, "mode"],
      [/^ {2}--label <value> +free text \(default: unset\)$/m, "label"],
      [/^ {2}-l, --loud +shout \(default: off\)$/m, "loud"],
      [/^ {2}-h, --help +print this help and exit$/m, "help"],
    ];
    for (const [line] of expected) expect(text).toMatch(line);
    // Nothing in the spec is left out of the help (the one list both read from).
    for (const name of Object.keys(spec.options)) expect(text).toContain(`--${name}`);
  });

  it("starts with the synopsis and ends with the notes", () => {
    expect(text.split("\n")[0]).toBe("usage: npm run thing -- <go|stop> [options]");
    expect(text).toMatch(/^ {2}go +start going$/m);
    expect(text.endsWith("Exit codes: 0 ok.")).toBe(true);
  });

  it("wraps long descriptions under their column", () => {
    const long = defineCli({
      command: "x",
      options: { a: { type: "boolean", description: "word ".repeat(60).trim() } },
    });
    const lines = usageText(long).split("\n");
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(110);
    expect(lines.filter((l) => /^ {2}--a +word/.test(l))).toHaveLength(1);
    expect(lines.some((l) => /^ {6,}word/.test(l))).toBe(true);
  });
});

describe("parseCli", () => {
  it("applies defaults, parses values and keeps positionals", () => {
    expect(parseCli(spec, ["go"])).toEqual({
      values: {
        count: 3,
        url: undefined,
        ratio: undefined,
        mode: "fast",
        label: undefined,
        loud: false,
      },
      positionals: ["go"],
    });
    const { values } = parseCli(spec, [
      "--count=7",
      "go",
      "-l",
      "--url",
      "http://x:1",
      "--ratio",
      "0.25",
      "--mode",
      "slow",
      "--label",
      "-5",
    ]);
    expect(values).toEqual({ count: 7, url: "http://x:1", ratio: 0.25, mode: "slow", label: "-5", loud: true });
  });

  it("takes arguments after -- as positionals", () => {
    expect(parseCli(spec, ["--", "--count"]).positionals).toEqual(["--count"]);
  });

  it.each([
    [["--bogus"], "unknown option --bogus"],
    [["-x"], "unknown option -x"],
    [["--count"], "--count needs a value (n)"],
    [["--count", "--loud"], "--count needs a value (n)"],
    [["--label="], "--label needs a value"],
    [["--count", "0"], '--count must be an integer in 1–9, got "0"'],
    [["--count", "2.5"], '--count must be an integer in 1–9, got "2.5"'],
    [["--count", "1", "--count", "2"], "--count given twice"],
    [["--loud=yes"], '--loud takes no value, got "yes"'],
    [["--url", "localhost:80"], '--url must be a URL, got "localhost:80"'],
    [["--ratio", "2"], '--ratio must be a number in [0, 1], got "2"'],
    [["--mode", "medium"], '--mode must be one of fast, slow, got "medium"'],
    [["go", "stop"], 'unexpected argument "stop"'],
    [["--bogus", "--count", "x"], "unknown option --bogus"],
  ])("rejects %j with one line: %s", (argv, message) => {
    const err = usageErrorOf(argv);
    expect(err.message).toBe(message);
    expect(err.message).not.toContain("\n");
  });

  it("answers --help / -h with the usage text, even next to a mistake", () => {
    for (const argv of [["--help"], ["-h"], ["go", "--bogus", "--help"], ["--count", "0", "-h"]]) {
      let thrown: unknown;
      try {
        parseCli(spec, argv);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(HelpRequested);
      expect((thrown as HelpRequested).usage).toBe(usageText(spec));
    }
  });

  it("numbers: exclusive lower bounds and open upper bounds", () => {
    expect(num(0, 10, { exclusiveMin: true })("10", "--t")).toBe(10);
    expect(() => num(0, 10, { exclusiveMin: true })("0", "--t")).toThrow('--t must be a number in (0, 10], got "0"');
    expect(() => num(0)("-1", "--t")).toThrow('--t must be a number in [0, ∞), got "-1"');
    expect(() => int(1)("", "--n")).toThrow("--n must be a positive integer");
    expect(() => int(0)("-1", "--n")).toThrow("--n must be an integer ≥ 0");
  });
});

describe("runCli", () => {
  async function run(main: () => unknown, env: Record<string, string> = {}) {
    const stderr: string[] = [];
    const stdout: string[] = [];
    let code: number | undefined;
    await runCli("thing", main as () => Promise<number | void>, {
      stderr: (l) => stderr.push(l),
      stdout: (t) => stdout.push(t),
      exit: (c) => {
        code = c;
      },
      env,
    });
    return { code, stderr, stdout };
  }

  it("exits with the code main returns, and not at all when it returns nothing", async () => {
    expect(await run(() => 4)).toEqual({ code: 4, stderr: [], stdout: [] });
    expect(await run(async () => undefined)).toEqual({ code: undefined, stderr: [], stdout: [] });
  });

  it("--help: usage on stdout, exit 0", async () => {
    const r = await run(() => parseCli(spec, ["--help"]));
    expect(r).toEqual({ code: 0, stderr: [], stdout: [usageText(spec)] });
  });

  it("a usage error: one stderr line naming it and pointing to --help, exit 2", async () => {
    const r = await run(() => parseCli(spec, ["go", "--bogus"]));
    expect(r).toEqual({ code: 2, stderr: ["thing: unknown option --bogus (see --help)"], stdout: [] });
  });

  it("any other error: one line, exit 1 (or the CliError's code); the stack only with PARLEY_DEBUG=1", async () => {
    const boom = () => {
      throw new Error("disk full\n  while writing");
    };
    expect(await run(boom)).toEqual({ code: 1, stderr: ["thing: disk full while writing"], stdout: [] });
    expect(await run(() => Promise.reject(new CliError("no pulumi", 3)))).toMatchObject({
      code: 3,
      stderr: ["thing: no pulumi"],
    });
    const debug = await run(boom, { PARLEY_DEBUG: "1" });
    expect(debug.code).toBe(1);
    expect(debug.stderr[0]).toBe("thing: disk full while writing");
    expect(debug.stderr[1]).toMatch(/^Error: disk full\n[\s\S]*at /);
  });
});
