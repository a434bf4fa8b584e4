/**
 * Each rule of the policy pack rejects a deliberately bad resource with a message naming its control, and
 * only that rule speaks. The awsx components are checked on their inputs, their AWS children on theirs.
 */
import type { PolicyPackConfig } from "@pulumi/policy";
import { checkedTypes, normalizePolicyDocument, policies } from "../../policy/rules";
import throwawayStack from "../../policy/throwaway-stack.json";
import { violations, type AnalyzedResource } from "./support";

const THROWAWAY: PolicyPackConfig = throwawayStack;

const res = (type: string, inputs: AnalyzedResource["inputs"], name = "bad"): AnalyzedResource => ({
  type,
  name,
  inputs,
});

/** The pack's verdict on these resources. */
const check = (resources: AnalyzedResource[], config: PolicyPackConfig = {}) => violations(policies, resources, config);

const arn = "arn:aws:sqs:us-east-1:123456789012:q";
const goodAlb = { dropInvalidHeaderFields: true, enableDeletionProtection: true, desyncMitigationMode: "defensive" };
const containers = (c: object) => JSON.stringify([{ name: "app", readonlyRootFilesystem: true, ...c }]);
const iamDoc = (Action: string | string[], Resource: string | string[]) =>
  JSON.stringify({ Version: "2012-10-17", Statement: { Effect: "Allow", Action, Resource } });

describe("one bad resource per rule: rejected by that rule alone, with its control in the message", () => {
  test.each<[string, string, AnalyzedResource[], RegExp]>([
    ["SQS.1", "sqs-encrypted-at-rest", [res("aws:sqs/queue:Queue", { name: "q" })], /^SQS\.1: bad is not encrypted/],
    [
      "DynamoDB.2",
      "dynamodb-point-in-time-recovery",
      [res("aws:dynamodb/table:Table", { deletionProtectionEnabled: true, pointInTimeRecovery: { enabled: false } })],
      /^DynamoDB\.2: bad has no point-in-time recovery/,
    ],
    [
      "DynamoDB.6",
      "dynamodb-deletion-protection",
      [res("aws:dynamodb/table:Table", { pointInTimeRecovery: { enabled: true } })],
      /^DynamoDB\.6: bad has no deletion protection/,
    ],
    [
      "Lambda.2",
      "lambda-supported-runtime",
      [res("aws:lambda/function:Function", { runtime: "nodejs20.x" })],
      /^Lambda\.2: bad runs "nodejs20\.x"; use nodejs22\.x or newer/,
    ],
    [
      "ECS.4 (task definition)",
      "ecs-no-privileged-containers",
      [res("aws:ecs/taskDefinition:TaskDefinition", { containerDefinitions: containers({ privileged: true }) })],
      /^ECS\.4: bad container app is privileged/,
    ],
    [
      "ECS.4 (awsx service)",
      "ecs-no-privileged-containers",
      [
        res("awsx:ecs:FargateService", {
          taskDefinitionArgs: { container: { name: "app", privileged: true, readonlyRootFilesystem: true } },
        }),
      ],
      /^ECS\.4: bad container app is privileged/,
    ],
    [
      "ECS.5 (task definition)",
      "ecs-read-only-root-filesystem",
      [
        res("aws:ecs/taskDefinition:TaskDefinition", {
          containerDefinitions: containers({ readonlyRootFilesystem: false }),
        }),
      ],
      /^ECS\.5: bad container app has a writable root filesystem/,
    ],
    [
      "ECS.5 (awsx task definition, containers map)",
      "ecs-read-only-root-filesystem",
      [res("awsx:ecs:FargateTaskDefinition", { containers: { app: { name: "app" } } })],
      /^ECS\.5: bad container app has a writable root filesystem/,
    ],
    [
      "ECS.2 (service with NAT in the stack)",
      "ecs-no-public-ip",
      [
        res("aws:ec2/natGateway:NatGateway", {}, "nat"),
        res("aws:ecs/service:Service", { networkConfiguration: { assignPublicIp: true } }),
      ],
      /^ECS\.2: bad assigns public IPs although the stack has NAT gateways/,
    ],
    [
      "ECS.2 (awsx service, awsx VPC with a NAT strategy)",
      "ecs-no-public-ip",
      [
        res("awsx:ec2:Vpc", { natGateways: { strategy: "OnePerAz" } }, "vpc"),
        res("awsx:ecs:FargateService", { networkConfiguration: { assignPublicIp: true } }),
      ],
      /^ECS\.2: bad assigns public IPs/,
    ],
    [
      "ELB.1",
      "elb-http-redirects-to-https",
      // Without a protocol the redirect keeps the request's own: plain HTTP.
      [
        res("aws:lb/listener:Listener", {
          protocol: "HTTP",
          defaultActions: [{ type: "redirect", redirect: { port: "443" } }],
        }),
      ],
      /^ELB\.1: bad redirects without protocol HTTPS/,
    ],
    [
      "HTTPS unless allowed (listener)",
      "https-unless-allowed",
      [res("aws:lb/listener:Listener", { port: 80, protocol: "HTTP", defaultActions: [{ type: "forward" }] })],
      /^Parley\.HTTPS: bad serves plain HTTP .*allowInsecureHttp/,
    ],
    [
      "HTTPS unless allowed (awsx default listener)",
      "https-unless-allowed",
      [res("awsx:lb:ApplicationLoadBalancer", { ...goodAlb })],
      /^Parley\.HTTPS: bad listener :80 serves plain HTTP/,
    ],
    [
      "ELB.4",
      "elb-drop-invalid-headers",
      [res("aws:lb/loadBalancer:LoadBalancer", { ...goodAlb, dropInvalidHeaderFields: false })],
      /^ELB\.4: bad keeps invalid header fields/,
    ],
    [
      "ELB.6",
      "elb-deletion-protection",
      [res("awsx:lb:ApplicationLoadBalancer", { ...goodAlb, enableDeletionProtection: false, listeners: [] })],
      /^ELB\.6: bad has no deletion protection/,
    ],
    [
      "ELB.12",
      "elb-desync-mitigation",
      [res("aws:lb/loadBalancer:LoadBalancer", { ...goodAlb, desyncMitigationMode: "monitor" })],
      /^ELB\.12: bad has desyncMitigationMode "monitor"; use defensive or strictest/,
    ],
    [
      "no data action on * (role policy)",
      "iam-no-data-actions-on-wildcard",
      [res("aws:iam/rolePolicy:RolePolicy", { policy: iamDoc("secretsmanager:GetSecretValue", "*") })],
      /^Parley\.IAM: bad grants secretsmanager:GetSecretValue on \*; name the exact ARNs/,
    ],
    [
      "no data action on * (account-wide table ARN, inline role policy)",
      "iam-no-data-actions-on-wildcard",
      [
        res("aws:iam/role:Role", {
          inlinePolicies: [
            { name: "tables", policy: iamDoc(["dynamodb:PutItem"], "arn:aws:dynamodb:us-east-1:123456789012:table/*") },
          ],
        }),
      ],
      /^Parley\.IAM: bad inline policy tables grants dynamodb:PutItem/,
    ],
    [
      "no data action on * (every secret of the account)",
      "iam-no-data-actions-on-wildcard",
      [
        res("aws:iam/policy:Policy", {
          policy: iamDoc("secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-east-1:123456789012:secret:*"),
        }),
      ],
      /^Parley\.IAM: bad grants secretsmanager:GetSecretValue on arn:aws:secretsmanager:.*:secret:\*/,
    ],
    [
      "no data action on * (broad managed policy)",
      "iam-no-data-actions-on-wildcard",
      [
        res("aws:iam/rolePolicyAttachment:RolePolicyAttachment", {
          policyArn: "arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess",
        }),
      ],
      /^Parley\.IAM: bad attaches AmazonDynamoDBFullAccess/,
    ],
  ])("%s", async (_control, policy, resources, message) => {
    const found = await check(resources);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(new RegExp(`^${policy}: `));
    expect(found[0]!.slice(policy.length + 2)).toMatch(message);
  });

  test("every rule has a case above", () => {
    expect(Object.keys(checkedTypes).sort()).toEqual(policies.map((p) => p.name).sort());
  });
});

describe("what the rules accept", () => {
  test("a KMS-encrypted queue (SQS.1), strictest desync mode (ELB.12), a container-image Lambda (Lambda.2)", async () => {
    expect(
      await check([
        res("aws:sqs/queue:Queue", { kmsMasterKeyId: "alias/aws/sqs" }),
        res("aws:lb/loadBalancer:LoadBalancer", { ...goodAlb, desyncMitigationMode: "strictest" }),
        res("aws:lambda/function:Function", { packageType: "Image" }),
      ]),
    ).toEqual([]);
  });

  test("ALB rules skip network load balancers; unset desync mode is AWS's default, defensive", async () => {
    expect(
      await check([
        res("aws:lb/loadBalancer:LoadBalancer", { loadBalancerType: "network" }),
        res("aws:lb/loadBalancer:LoadBalancer", { dropInvalidHeaderFields: true, enableDeletionProtection: true }),
      ]),
    ).toEqual([]);
  });

  test("an awsx component registered without inputs (as awsx does) is left to its children", async () => {
    for (const type of ["awsx:lb:ApplicationLoadBalancer", "awsx:ecs:FargateService", "awsx:ecs:FargateTaskDefinition"])
      expect(await check([res(type, {})])).toEqual([]);
  });

  test("the throwaway config waives deletion protection and plain HTTP, never a redirect that stays on HTTP", async () => {
    const throwaway = [
      res("aws:dynamodb/table:Table", { pointInTimeRecovery: { enabled: true } }),
      res("aws:lb/loadBalancer:LoadBalancer", { dropInvalidHeaderFields: true }),
      res("aws:lb/listener:Listener", { protocol: "HTTP", defaultActions: [{ type: "forward" }] }),
    ];
    expect(await check(throwaway)).toHaveLength(3);
    expect(await check(throwaway, THROWAWAY)).toEqual([]);
    const staysOnHttp = res("aws:lb/listener:Listener", { defaultActions: [{ type: "redirect", redirect: {} }] });
    expect(await check([staysOnHttp], THROWAWAY)).toEqual([
      expect.stringMatching(/^elb-http-redirects-to-https: ELB\.1: /),
    ]);
  });

  test("ECS.2: a public IP is accepted when the stack has no NAT path (natGateways None, or none at all)", async () => {
    const service = res("aws:ecs/service:Service", { networkConfiguration: { assignPublicIp: true } });
    expect(await check([service])).toEqual([]);
    expect(await check([res("awsx:ec2:Vpc", { natGateways: { strategy: "None" } }, "vpc"), service])).toEqual([]);
    expect(await check([res("awsx:ec2:Vpc", { natGateways: [] }, "vpc"), service])).toEqual([]);
  });

  test("IAM: exact ARNs, non-data actions on *, and Deny statements pass; NotAction on * does not", async () => {
    const doc = (Statement: object[]) => JSON.stringify({ Version: "2012-10-17", Statement });
    expect(
      await check([
        res("aws:iam/policy:Policy", {
          policy: doc([
            { Effect: "Allow", Action: "sqs:SendMessage", Resource: arn },
            { Effect: "Allow", Action: ["logs:CreateLogGroup", "ec2:DescribeAvailabilityZones"], Resource: "*" },
            { Effect: "Deny", Action: "dynamodb:*", Resource: "*" },
          ]),
        }),
      ]),
    ).toEqual([]);
    expect(
      await check([
        res("aws:iam/policy:Policy", { policy: doc([{ Effect: "Allow", NotAction: "iam:*", Resource: "*" }]) }),
      ]),
    ).toHaveLength(1);
  });

  test("normalizePolicyDocument: string or list forms, object or JSON text", () => {
    expect(
      normalizePolicyDocument({ Statement: { Effect: "Allow", Action: "sqs:SendMessage", Resource: arn } }),
    ).toEqual({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: ["sqs:SendMessage"], Resource: [arn] }],
    });
  });
});
