/**
 * The policy pack on the program itself: every resource the mocked program records (tests/infra/mocks.ts),
 * fed to every rule as the analyzer would, yields no violation — for the default config, for
 * Pulumi.dev.yaml with the pack's throwaway config, and for a production-like stack with the strict default.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { PolicyPackConfig } from "@pulumi/policy";
import { checkedTypes, policies } from "../../policy/rules";
import throwawayStack from "../../policy/throwaway-stack.json";
import { loadProgram, ACCOUNT, REGION, type LoadedProgram } from "../infra/mocks";
import { violations } from "./support";
import { timing } from "../support/timing";

// Each loadProgram imports all of @pulumi/aws afresh: 10-60 s of CPU here, several times that under load.
jest.setTimeout(timing.ms(300_000));

// js-yaml arrives with eslint (no types of its own); only `load` is used, as in tests/infra/config.test.ts.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { load } = require("js-yaml") as { load(text: string): unknown };

const root = path.resolve(__dirname, "../..");
const THROWAWAY: PolicyPackConfig = throwawayStack;

/** Pulumi.dev.yaml's `parley:*` keys, as strings the way the CLI hands config to the program. */
function devConfig(): Record<string, string> {
  const doc = load(fs.readFileSync(path.join(root, "Pulumi.dev.yaml"), "utf8")) as {
    config: Record<string, unknown>;
  };
  return Object.fromEntries(
    Object.entries(doc.config)
      .filter(([k]) => k.startsWith("parley:"))
      .map(([k, v]) => [k.slice("parley:".length), String(v)]),
  );
}

/** Every rule found something of its own to inspect, so "no violation" is not for lack of resources. */
function expectEveryRuleExercised(p: LoadedProgram) {
  const recorded = new Set(p.resources.map((r) => r.type));
  for (const [rule, types] of Object.entries(checkedTypes)) {
    expect({ rule, inspects: types.filter((t) => recorded.has(t)).length > 0 }).toEqual({ rule, inspects: true });
  }
}

describe("default config (HTTP allowed, deletion protection on)", () => {
  let p: LoadedProgram;
  beforeAll(async () => {
    p = await loadProgram();
  });

  test("no violation with the pack config that mirrors the stack's choice of plain HTTP", async () => {
    expectEveryRuleExercised(p);
    expect(await violations(policies, p.resources, { "https-unless-allowed": { allowInsecureHttp: true } })).toEqual(
      [],
    );
  });

  test("without that config, the plain-HTTP listener is the one violation", async () => {
    expect(await violations(policies, p.resources)).toEqual([
      expect.stringMatching(/^https-unless-allowed: Parley\.HTTPS: gateway-alb listener :80 serves plain HTTP/),
    ]);
  });
});

describe("Pulumi.dev.yaml", () => {
  let p: LoadedProgram;
  beforeAll(async () => {
    p = await loadProgram(devConfig(), "dev");
  });

  test("no violation with policy/throwaway-stack.json", async () => {
    expect(p.one("aws:dynamodb/table:Table", "tables-messages").inputs.deletionProtectionEnabled).toBe(false);
    expectEveryRuleExercised(p);
    expect(await violations(policies, p.resources, THROWAWAY)).toEqual([]);
  });

  test("the strict default config rejects exactly what the dev stack waives", async () => {
    const found = await violations(policies, p.resources);
    expect(new Set(found.map((v) => v.split(":")[0]))).toEqual(
      new Set(["dynamodb-deletion-protection", "elb-deletion-protection", "https-unless-allowed"]),
    );
  });
});

describe("production-like stack (certificate, deletion protection on)", () => {
  test("no violation with the strict default config", async () => {
    const p = await loadProgram({
      certificateArn: `arn:aws:acm:${REGION}:${ACCOUNT}:certificate/0b1c2d3e`,
      publicOrigin: "https://chat.example.com",
    });
    expectEveryRuleExercised(p);
    expect(await violations(policies, p.resources)).toEqual([]);
  });
});

describe("existing VPC without private subnets (no NAT path)", () => {
  test("ECS.2 accepts the tasks' public IPs, which are their only way out", async () => {
    const p = await loadProgram({
      certificateArn: `arn:aws:acm:${REGION}:${ACCOUNT}:certificate/0b1c2d3e`,
      publicOrigin: "https://chat.example.com",
      vpcId: "vpc-0123",
      publicSubnetIds: "subnet-0aa,subnet-0bb",
    });
    expect(p.one("awsx:ecs:FargateService", "gateway-service").inputs.networkConfiguration.assignPublicIp).toBe(true);
    expect(await violations(policies, p.resources)).toEqual([]);
  });
});
