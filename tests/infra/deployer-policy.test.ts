/**
 * docs/deployer-policy.json covers what `pulumi up` / `destroy` of this program calls: every resource type the
 * mocked program records (and the children of its remote awsx components) maps to IAM actions in
 * tests/infra/support/resource-actions.ts, and each of them is allowed — on the resource's own ARN where the
 * policy scopes by name prefix. Run for the stacks that get deployed: default config, Pulumi.dev.yaml, the
 * ephemeral config CI deploys, and a production-like stack (certificate, alarm email, NAT per AZ).
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { wildcardDataStatements } from "../../components/policies";
import { ephemeralConfig } from "../../scripts/ephemeral/config";
import { loadProgram, REGION, type Recorded } from "./mocks";
import { allowingStatements, allows, parsePolicy, wildcardMatch, type Policy } from "./support/iam-policy";
import { invokeActions, resourceActions, type TypeActions } from "./support/resource-actions";
import { timing } from "../support/timing";

// js-yaml arrives with eslint (no types of its own); only `load` is used.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { load } = require("js-yaml") as { load(text: string): unknown };

// Each loadProgram imports all of @pulumi/aws afresh: 10-60 s of CPU here, several times that under load.
jest.setTimeout(timing.ms(300_000));

const root = path.join(__dirname, "../..");
const policy: Policy = parsePolicy(JSON.parse(readFileSync(path.join(root, "docs/deployer-policy.json"), "utf8")));

function parleyConfig(entries: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(entries)
      .filter(([k]) => k.startsWith("parley:"))
      .map(([k, v]) => [k.slice("parley:".length), String(v)]),
  );
}

const devConfig = parleyConfig(
  (load(readFileSync(path.join(root, "Pulumi.dev.yaml"), "utf8")) as { config: Record<string, unknown> }).config,
);
const ephemeralStack = "ephemeral-pr-12-abc123";
const ephemeral = parleyConfig(
  Object.fromEntries(
    Object.entries(ephemeralConfig({ stackName: ephemeralStack, region: REGION })).map(([k, v]) => [k, v.value]),
  ),
);

const stacks: [string, Record<string, string>, string][] = [
  ["default config", {}, "test"],
  ["Pulumi.dev.yaml", devConfig, "dev"],
  ["the ephemeral config", ephemeral, ephemeralStack],
  [
    "a production-like stack",
    {
      certificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/0c1d2e3f",
      publicOrigin: "https://chat.example.com",
      alarmEmail: "ops@example.com",
      natGateways: "OnePerAz",
    },
    "prod",
  ],
];

interface Need {
  readonly type: string;
  readonly action: string;
  readonly arn?: string;
}

/** Every (action, ARN) one recorded resource needs, its awsx children's included. */
function needsOf(r: Recorded): Need[] {
  const entry = resourceActions[r.type];
  if (!entry) throw new Error(`resource type ${r.type} (${r.name}) is not in tests/infra/support/resource-actions.ts`);
  const own = (e: TypeActions, type: string, arn?: string): Need[] => [
    ...e.actions.map((action) => ({ type, action, arn })),
    ...(e.related ?? []).map((action) => ({ type, action })),
  ];
  const needs = own(entry, r.type, entry.arn?.(r));
  for (const child of entry.children ?? []) {
    const c = resourceActions[child.type];
    if (!c) throw new Error(`child type ${child.type} of ${r.type} is not in tests/infra/support/resource-actions.ts`);
    needs.push(...own(c, `${r.type} > ${child.type}`, child.arn?.(r)));
  }
  return needs;
}

describe("the IAM matcher the coverage test relies on", () => {
  test("wildcards: * any run, ? one character, actions case-insensitive, resources not", () => {
    expect(wildcardMatch("ecs:*", "ecs:CreateService", true)).toBe(true);
    expect(wildcardMatch("ecs:Describe*", "ecs:describeservices", true)).toBe(true);
    expect(wildcardMatch("ecs:Describe*", "ecs:DeleteService", true)).toBe(false);
    expect(wildcardMatch("ec2:Describe?pcs", "ec2:DescribeVpcs", true)).toBe(true);
    expect(wildcardMatch("arn:aws:sqs:*:*:parley-*", "arn:aws:sqs:us-east-1:1:parley-x.fifo")).toBe(true);
    expect(wildcardMatch("arn:aws:sqs:*:*:parley-*", "arn:aws:sqs:us-east-1:1:Parley-x")).toBe(false);
    expect(wildcardMatch("a.b", "axb")).toBe(false);
  });

  test("a Deny wins, and a resource outside every Allow is refused", () => {
    const p = parsePolicy({
      Version: "2012-10-17",
      Statement: [
        { Effect: "Allow", Action: "sqs:*", Resource: "arn:aws:sqs:*:*:parley-*" },
        { Effect: "Deny", Action: "sqs:DeleteQueue", Resource: "*" },
      ],
    });
    expect(allows(p, "sqs:CreateQueue", "arn:aws:sqs:us-east-1:1:parley-a")).toBe(true);
    expect(allows(p, "sqs:CreateQueue", "arn:aws:sqs:us-east-1:1:other")).toBe(false);
    expect(allows(p, "sqs:DeleteQueue", "arn:aws:sqs:us-east-1:1:parley-a")).toBe(false);
    expect(allows(p, "sns:CreateTopic")).toBe(false);
  });
});

describe("docs/deployer-policy.json", () => {
  test("is least privilege: no `*` or service-wide action, no data action on a wildcard resource", () => {
    for (const s of policy.Statement) {
      expect(s.Sid).toMatch(/^[A-Za-z0-9]+$/);
      expect(s.Effect).toBe("Allow");
      for (const a of s.Action) expect(a).not.toMatch(/^(\*|[a-z0-9-]+:\*)$/);
    }
    expect(wildcardDataStatements(policy)).toEqual([]);
    expect(new Set(policy.Statement.map((s) => s.Sid)).size).toBe(policy.Statement.length);
  });

  test("iam:PassRole only for the program's roles, only to Lambda and ECS tasks", () => {
    const grants = allowingStatements(policy, "iam:PassRole");
    expect(grants.length).toBeGreaterThan(0);
    for (const s of grants) {
      expect(s.Resource.every((r) => /^arn:aws:iam::\*:role\/[a-z]+-\*$/.test(r))).toBe(true);
      expect(s.Condition).toEqual({
        StringEquals: { "iam:PassedToService": ["lambda.amazonaws.com", "ecs-tasks.amazonaws.com"] },
      });
    }
  });

  test("iam:CreateServiceLinkedRole only for the ECS, ELB and Application Auto Scaling service-linked roles", () => {
    const grants = allowingStatements(policy, "iam:CreateServiceLinkedRole");
    expect(grants.length).toBeGreaterThan(0);
    for (const s of grants) {
      expect(s.Resource).toEqual(["arn:aws:iam::*:role/aws-service-role/*"]);
      expect(s.Condition).toEqual({
        StringEquals: {
          "iam:AWSServiceName": [
            "ecs.amazonaws.com",
            "elasticloadbalancing.amazonaws.com",
            "ecs.application-autoscaling.amazonaws.com",
          ],
        },
      });
    }
  });

  test("the permissions the old hand-written list missed are present (deploy-ready finding 3)", () => {
    for (const action of [
      "application-autoscaling:RegisterScalableTarget",
      "application-autoscaling:PutScalingPolicy",
      "iam:PassRole",
      "iam:CreateServiceLinkedRole",
      "secretsmanager:GetRandomPassword",
      "ec2:DescribeAvailabilityZones",
    ]) {
      expect([action, allows(policy, action)]).toEqual([action, true]);
    }
  });

  test.each(stacks)("allows every action the program needs with %s", async (_label, config, stack) => {
    const p = await loadProgram(config, stack);
    const missingTypes = [...new Set(p.resources.map((r) => r.type))].filter((t) => !resourceActions[t]);
    expect(missingTypes).toEqual([]);
    const missingInvokes = [...new Set(p.calls.map((c) => c.token))].filter((t) => !invokeActions[t]);
    expect(missingInvokes).toEqual([]);

    const needs = [
      ...p.resources.flatMap(needsOf),
      ...p.calls.map((c) => c.token).flatMap((t) => invokeActions[t]!.map((action) => ({ type: t, action }) as Need)),
    ];
    const refused = needs
      .filter((n) => !allows(policy, n.action, n.arn))
      .map((n) => `${n.type}: ${n.action}${n.arn ? ` on ${n.arn}` : ""}`);
    expect([...new Set(refused)]).toEqual([]);
    // The awsx children were reached, not only the components.
    expect(needs.some((n) => n.type.endsWith("> aws:ecs/service:Service"))).toBe(true);
  });
});
