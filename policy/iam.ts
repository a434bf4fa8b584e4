/**
 * IAM documents as IAM accepts them (a string or a list for Action, Resource and Statement), normalized to the
 * list form the program writes, and the wildcard checks the IAM rule applies to them.
 */
import { wildcardDataStatements, type PolicyDocument, type PolicyStatement } from "../components/policies";
import type { Check, Props } from "./resources";

const asList = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);

/** An IAM policy (JSON text or object) with every statement in the list form the program writes. */
export function normalizePolicyDocument(policy: unknown): PolicyDocument {
  const doc = (typeof policy === "string" ? JSON.parse(policy) : policy) as Props;
  const statements: Props[] = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
  return {
    Version: "2012-10-17",
    Statement: statements.map((s): PolicyStatement => ({
      ...(s.Sid ? { Sid: s.Sid } : {}),
      Effect: s.Effect,
      // NotAction on * grants every other action, data actions included.
      Action: s.NotAction !== undefined ? ["*"] : asList(s.Action),
      Resource: s.NotResource !== undefined ? ["*"] : asList(s.Resource),
    })),
  };
}

/** AWS managed policies that grant data actions on every resource. */
export const BROAD_MANAGED_POLICIES = [
  "AdministratorAccess",
  "PowerUserAccess",
  "AmazonSQSFullAccess",
  "AmazonDynamoDBFullAccess",
  "AmazonDynamoDBReadOnlyAccess",
  "SecretsManagerReadWrite",
];

export const wildcardProblems = (policy: unknown, where = ""): string[] =>
  wildcardDataStatements(normalizePolicyDocument(policy)).map(
    (s) => `${where}grants ${s.Action.join(", ")} on ${s.Resource.join(", ")}; name the exact ARNs`,
  );

export const onPolicyDocument: Check = (p) => wildcardProblems(p.policy);
