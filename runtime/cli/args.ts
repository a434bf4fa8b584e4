/**
 * The one argument parser every Parley CLI uses (`npm start`, `npm run bench|dlq|smoke|stack:ephemeral`).
 * A CLI declares its options once; parsing and `--help` both read that declaration, so the usage text cannot
 * drift from what is accepted. Mistakes become a one-line UsageError (exit 2), never a stack trace.
 */
import { parseArgs } from "node:util";

/** A mistake on the command line; its message is one line naming the offending argument. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Thrown by parseCli for `--help`/`-h`; runCli prints `usage` and exits 0. */
export class HelpRequested extends Error {
  constructor(readonly usage: string) {
    super("help requested");
    this.name = "HelpRequested";
  }
}

/** An expected failure whose message is all the user needs (no stack even with PARLEY_DEBUG). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = 1,
  ) {
    super(message);
    this.name = "CliError";
  }
}

export interface BooleanOption {
  readonly type: "boolean";
  readonly description: string;
  readonly short?: string;
}

export interface StringOption<T = string> {
  readonly type: "string";
  readonly description: string;
  readonly short?: string;
  /** Placeholder in the usage text, e.g. `n` → `--max <n>`. */
  readonly value?: string;
  /** Returned when the option is absent, and shown in the usage text. */
  readonly default?: T;
  /** Shown instead of the default when it is not a constant (e.g. "$AWS_REGION, else us-east-1"). */
  readonly defaultText?: string;
  /** Turns the raw value into T; throws UsageError (see the parsers below) when it is not acceptable. */
  readonly parse?: (raw: string, flag: string) => T;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each option has its own value type
export type OptionSpec = BooleanOption | StringOption<any>;

export interface CliSpec {
  /** What the user types before the arguments, e.g. `npm run dlq --`. */
  readonly command: string;
  /** Positional part of the synopsis, e.g. `<list|show|redrive> [queue]`. */
  readonly args?: string;
  /** One line under the synopsis. */
  readonly summary?: string;
  /** Positionals (or sub-commands) and what each means. */
  readonly positionals?: readonly (readonly [name: string, description: string])[];
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** Most positionals accepted; more is a UsageError. Default: any number. */
  readonly maxPositionals?: number;
  /** A closing paragraph (where things are looked up, exit codes…). */
  readonly notes?: string;
}

type Parsed<O> = O extends { readonly parse: (raw: string, flag: string) => infer T } ? T : string;
type ValueOf<O> = O extends { readonly type: "boolean" }
  ? boolean
  : O extends { readonly default: NonNullable<unknown> }
    ? Parsed<O>
    : Parsed<O> | undefined;

export type CliValues<S extends CliSpec> = { -readonly [K in keyof S["options"]]: ValueOf<S["options"][K]> };

export interface ParsedCli<S extends CliSpec> {
  readonly values: CliValues<S>;
  readonly positionals: string[];
}

/** Identity, so a spec keeps its literal option types for CliValues. */
export const defineCli = <const S extends CliSpec>(spec: S): S => spec;

const flagOf = (name: string, o: OptionSpec): string =>
  `${o.short ? `-${o.short}, ` : ""}--${name}${o.type === "string" ? ` <${o.value ?? "value"}>` : ""}`;

function defaultOf(o: OptionSpec): string {
  if (o.type === "boolean") return "off";
  if (o.defaultText !== undefined) return o.defaultText;
  if (o.default === undefined) return "unset";
  return Array.isArray(o.default) ? o.default.join(",") : String(o.default);
}

const wrap = (text: string, width: number, indent: string): string => {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.join(`\n${indent}`);
};

/** The `--help` text: synopsis, positionals, then every option with its default. */
export function usageText(spec: CliSpec): string {
  const opts: [string, string][] = Object.entries(spec.options).map(([name, o]) => [
    flagOf(name, o),
    `${o.description} (default: ${defaultOf(o)})`,
  ]);
  opts.push(["-h, --help", "print this help and exit"]);
  const pos = spec.positionals ?? [];
  const col = Math.max(...opts.map(([f]) => f.length), ...pos.map(([n]) => n.length)) + 2;
  const indent = " ".repeat(2 + col);
  const row = ([left, text]: readonly [string, string]) =>
    `  ${left.padEnd(col)}${wrap(text, Math.max(40, 110 - indent.length), indent)}`;
  const out = [`usage: ${[spec.command, spec.args, "[options]"].filter(Boolean).join(" ")}`];
  if (spec.summary) out.push("", wrap(spec.summary, 110, ""));
  if (pos.length) out.push("", ...pos.map(row));
  out.push("", "options:", ...opts.map(row));
  if (spec.notes) out.push("", wrap(spec.notes, 110, ""));
  return out.join("\n");
}

const optionLike = (v: string) => /^--?[A-Za-z]/.test(v);

/**
 * Parses argv against the spec. `--help` anywhere wins over every other problem (HelpRequested); otherwise the
 * first problem is thrown as a UsageError: an unknown option, a missing value, a value on a boolean, an option
 * given twice, a value its parser rejects, or too many positionals.
 */
export function parseCli<const S extends CliSpec>(spec: S, argv: readonly string[]): ParsedCli<S> {
  const nodeOptions: Record<string, { type: "string" | "boolean"; short?: string }> = {
    help: { type: "boolean", short: "h" },
  };
  for (const [name, o] of Object.entries(spec.options)) {
    nodeOptions[name] = { type: o.type, ...(o.short ? { short: o.short } : {}) };
  }
  // Not strict: node's own errors are multi-line and name options inconsistently; the tokens let every
  // mistake be reported the same way below.
  const { tokens } = parseArgs({
    args: [...argv],
    options: nodeOptions,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  let problem: string | undefined;
  const fail = (message: string) => {
    problem ??= message;
  };
  let help = false;
  const raw = new Map<string, { flag: string; value?: string }>();
  const positionals: string[] = [];
  for (const t of tokens) {
    if (t.kind === "positional") {
      positionals.push(t.value);
      continue;
    }
    if (t.kind !== "option") continue;
    if (t.name === "help") {
      help = true;
      continue;
    }
    const o = Object.hasOwn(spec.options, t.name) ? spec.options[t.name] : undefined;
    if (!o) {
      fail(`unknown option ${t.rawName}`);
      continue;
    }
    if (raw.has(t.name)) fail(`${t.rawName} given twice`);
    if (o.type === "boolean") {
      if (t.value !== undefined) fail(`${t.rawName} takes no value, got "${t.value}"`);
      raw.set(t.name, { flag: t.rawName });
    } else if (t.value === undefined || t.value === "" || (!t.inlineValue && optionLike(t.value))) {
      fail(`${t.rawName} needs a value${o.value ? ` (${o.value})` : ""}`);
    } else {
      raw.set(t.name, { flag: t.rawName, value: t.value });
    }
  }
  if (help) throw new HelpRequested(usageText(spec));
  if (spec.maxPositionals !== undefined && positionals.length > spec.maxPositionals) {
    fail(`unexpected argument "${positionals[spec.maxPositionals]}"`);
  }
  if (problem !== undefined) throw new UsageError(problem);

  const values: Record<string, unknown> = {};
  for (const [name, o] of Object.entries(spec.options)) {
    const given = raw.get(name);
    if (o.type === "boolean") values[name] = given !== undefined;
    else if (given?.value === undefined) values[name] = o.default;
    else values[name] = o.parse ? o.parse(given.value, given.flag) : given.value;
  }
  return { values: values as CliValues<S>, positionals };
}

// Value parsers for StringOption.parse; each names the flag and the rejected value.

export const int =
  (min: number, max: number = Number.MAX_SAFE_INTEGER) =>
  (raw: string, flag: string): number => {
    const n = Number(raw);
    if (raw.trim() === "" || !Number.isInteger(n) || n < min || n > max) {
      const what =
        max !== Number.MAX_SAFE_INTEGER
          ? `an integer in ${min}–${max}`
          : min === 1
            ? "a positive integer"
            : `an integer ≥ ${min}`;
      throw new UsageError(`${flag} must be ${what}, got "${raw}"`);
    }
    return n;
  };

export const num =
  (min: number, max: number = Number.POSITIVE_INFINITY, { exclusiveMin = false } = {}) =>
  (raw: string, flag: string): number => {
    const n = Number(raw);
    const low = exclusiveMin ? n <= min : n < min;
    if (raw.trim() === "" || !Number.isFinite(n) || low || n > max) {
      const range = `${exclusiveMin ? `(${min}` : `[${min}`}, ${Number.isFinite(max) ? max : "∞"}${Number.isFinite(max) ? "]" : ")"}`;
      throw new UsageError(`${flag} must be a number in ${range}, got "${raw}"`);
    }
    return n;
  };

export const httpUrl = (raw: string, flag: string): string => {
  if (!/^https?:\/\/\S+$/.test(raw) || !URL.canParse(raw)) throw new UsageError(`${flag} must be a URL, got "${raw}"`);
  return raw;
};

export const oneOf =
  <const T extends string>(choices: readonly T[]) =>
  (raw: string, flag: string): T => {
    if (!(choices as readonly string[]).includes(raw)) {
      throw new UsageError(`${flag} must be one of ${choices.join(", ")}, got "${raw}"`);
    }
    return raw as T;
  };

const oneLine = (s: string) => s.replace(/\s*\n\s*/g, " ").trim();

export interface RunCliOptions {
  /** Where lines go; tests pass their own. */
  readonly stderr?: (line: string) => void;
  readonly stdout?: (text: string) => void;
  readonly exit?: (code: number) => void;
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Runs a CLI's main. A number it resolves to is the exit code; undefined leaves the process running (a server).
 * `--help` → usage on stdout, exit 0. UsageError → `name: message (see --help)` on stderr, exit 2. Anything
 * else → `name: message` on stderr, exit 1 (the stack too with PARLEY_DEBUG=1).
 */
export function runCli(
  name: string,
  main: () => Promise<number | void> | number | void,
  options: RunCliOptions = {},
): Promise<void> {
  const stderr = options.stderr ?? ((line: string) => process.stderr.write(`${line}\n`));
  const stdout = options.stdout ?? ((text: string) => process.stdout.write(`${text}\n`));
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const debug = /^(1|true|yes)$/i.test((options.env ?? process.env).PARLEY_DEBUG ?? "");
  // The AWS SDK's Node-version notice concerns its releases after January 2027; the locked versions support
  // Node 20 (README). Its eight lines would bury what a CLI prints, so the CLIs (not the services) silence it.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  return Promise.resolve()
    .then(main)
    .then(
      (code) => {
        if (typeof code === "number") exit(code);
      },
      (err: unknown) => {
        if (err instanceof HelpRequested) {
          stdout(err.usage);
          return exit(0);
        }
        if (err instanceof UsageError) {
          stderr(`${name}: ${oneLine(err.message)} (see --help)`);
          return exit(2);
        }
        const message = err instanceof Error ? err.message || err.name : String(err);
        stderr(`${name}: ${oneLine(message)}`);
        if (debug && err instanceof Error && err.stack) stderr(err.stack);
        return exit(err instanceof CliError ? err.exitCode : 1);
      },
    );
}
