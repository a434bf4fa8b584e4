/**
 * Ephemeral stack names: derived from the CI run, always under one prefix, so the script can refuse
 * to touch anything else (a shared dev or prod stack in the same project).
 */
import { randomBytes } from "node:crypto";

export const EPHEMERAL_PREFIX = "ephemeral-";

/**
 * The part after the prefix is at most 25 characters: the stack's resource-name prefix
 * (`eph-` + that part, see `namePrefixFor`) must fit the program's 29-character limit.
 */
const EPHEMERAL_NAME = /^ephemeral-[a-z0-9](?:[a-z0-9-]{0,23}[a-z0-9])?$/;
const SUFFIX_LENGTH = 6;
const MAX_SLUG = 25 - 1 - SUFFIX_LENGTH;

/** Why `name` is not an ephemeral stack name, or undefined when it is one. */
export function stackNameProblem(name: string): string | undefined {
  if (!name.startsWith(EPHEMERAL_PREFIX)) {
    return `refusing stack "${name}": only stacks named ${EPHEMERAL_PREFIX}* are ephemeral`;
  }
  if (!EPHEMERAL_NAME.test(name)) {
    return `refusing stack "${name}": after "${EPHEMERAL_PREFIX}" use 1-25 characters of a-z, 0-9 and "-", not starting or ending with "-"`;
  }
  return undefined;
}

export function isEphemeralStackName(name: string): boolean {
  return stackNameProblem(name) === undefined;
}

export type CiEnv = Readonly<Record<string, string | undefined>>;

/**
 * `ephemeral-<source>-<random>`, where source is the pull request (`pr-42`), else the branch, else
 * the local user. The random suffix lets two runs for the same PR overlap without sharing a stack.
 */
export function deriveStackName(env: CiEnv, suffix: string = randomSuffix()): string {
  const pr = /^refs\/pull\/(\d+)\/merge$/.exec(env.GITHUB_REF ?? "")?.[1];
  const source = pr ? `pr-${pr}` : env.GITHUB_HEAD_REF || env.GITHUB_REF_NAME || env.USER || "local";
  const slug = sanitise(source).slice(0, MAX_SLUG).replace(/-+$/, "") || "local";
  return `${EPHEMERAL_PREFIX}${slug}-${sanitise(suffix).slice(0, SUFFIX_LENGTH) || randomSuffix()}`;
}

/** Lowercase a-z0-9 with single dashes, e.g. "feature/Add_Login" → "feature-add-login". */
export function sanitise(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
}

export function randomSuffix(): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  return [...randomBytes(SUFFIX_LENGTH)].map((b) => alphabet[b % alphabet.length]).join("");
}

/** The program's `parley:namePrefix` for an ephemeral stack: short, and unique per stack. */
export function namePrefixFor(stackName: string): string {
  const problem = stackNameProblem(stackName);
  if (problem) throw new Error(problem);
  return `eph-${stackName.slice(EPHEMERAL_PREFIX.length)}`;
}
