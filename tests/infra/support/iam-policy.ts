/**
 * Enough of IAM's policy evaluation to check a hand-written policy document: Allow/Deny statements with
 * Action and Resource as a string or a list, matched with IAM's wildcards (`*` any run, `?` one character;
 * actions case-insensitively, resources case-sensitively). Conditions are not evaluated: a statement with a
 * Condition counts as allowing, so the tests name the conditions they rely on separately.
 */
import type { PolicyDocument, PolicyStatement } from "../../../components/policies";

interface RawStatement {
  readonly Sid?: string;
  readonly Effect: "Allow" | "Deny";
  readonly Action?: string | readonly string[];
  readonly NotAction?: unknown;
  readonly Resource?: string | readonly string[];
  readonly NotResource?: unknown;
  readonly Condition?: Record<string, Record<string, string | readonly string[]>>;
}

export interface Statement extends PolicyStatement {
  readonly Condition?: RawStatement["Condition"];
}

export interface Policy extends PolicyDocument {
  readonly Statement: readonly Statement[];
}

const list = (v: string | readonly string[] | undefined): readonly string[] =>
  v === undefined ? [] : typeof v === "string" ? [v] : v;

/** Normalizes a parsed policy JSON; throws on the forms this matcher does not evaluate. */
export function parsePolicy(json: unknown): Policy {
  const doc = json as { Version?: string; Statement?: RawStatement | readonly RawStatement[] };
  if (doc.Version !== "2012-10-17") throw new Error(`policy Version must be 2012-10-17, got ${doc.Version}`);
  const raw = Array.isArray(doc.Statement) ? doc.Statement : doc.Statement ? [doc.Statement as RawStatement] : [];
  return {
    Version: "2012-10-17",
    Statement: raw.map((s, i) => {
      if (s.NotAction !== undefined || s.NotResource !== undefined) {
        throw new Error(`statement ${s.Sid ?? i}: NotAction/NotResource are not evaluated here`);
      }
      return {
        Sid: s.Sid,
        Effect: s.Effect,
        Action: list(s.Action),
        Resource: list(s.Resource),
        Condition: s.Condition,
      };
    }),
  };
}

/** IAM wildcard match: `*` matches any run of characters (also none), `?` exactly one. */
export function wildcardMatch(pattern: string, value: string, ignoreCase = false): boolean {
  const source = pattern
    .split("")
    .map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\/-]/g, "\\$&")))
    .join("");
  return new RegExp(`^${source}$`, ignoreCase ? "i" : "").test(value);
}

const matchesAction = (s: Statement, action: string) => s.Action.some((p) => wildcardMatch(p, action, true));
const matchesResource = (s: Statement, resource: string) => s.Resource.some((p) => wildcardMatch(p, resource));

/** The Allow statements that grant `action` (on `resource`, when given), unless a Deny statement matches. */
export function allowingStatements(policy: Policy, action: string, resource?: string): Statement[] {
  const applies = (s: Statement) =>
    matchesAction(s, action) && (resource === undefined || matchesResource(s, resource));
  if (policy.Statement.some((s) => s.Effect === "Deny" && applies(s))) return [];
  return policy.Statement.filter((s) => s.Effect === "Allow" && applies(s));
}

export function allows(policy: Policy, action: string, resource?: string): boolean {
  return allowingStatements(policy, action, resource).length > 0;
}
