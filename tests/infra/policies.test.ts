/** Pure helpers of the components: no Pulumi runtime, no mocks. */
import {
  MAX_PERSISTER_BATCH,
  PERSISTER_TIMEOUT_SECONDS,
  queues,
  tableKeys,
  tables,
  type TableDefinition,
} from "../../runtime/contracts";
import { createTableInput } from "../../runtime/local/provision";
import {
  albRequestCountLabel,
  ecsServiceResourceId,
  gatewayTaskPolicyDocument,
  iamRoleName,
  ignoreAutoscaledDesiredCount,
  isSupportedNodeRuntime,
  persisterPolicyDocument,
  secretsReadPolicyDocument,
  tableResourceArns,
  tableShape,
  visibilityCoversRetries,
  wildcardDataStatements,
  type PolicyDocument,
} from "../../components/policies";

const arn = (t: string) => `arn:aws:dynamodb:eu-west-1:111122223333:table/${t}`;
const q = (n: string) => `arn:aws:sqs:eu-west-1:111122223333:${n}`;

describe("tableShape mirrors the local provisioning of the same contract", () => {
  test.each(tableKeys)("%s", (key) => {
    const shape = tableShape(tables[key]);
    const local = createTableInput("t", tables[key]);
    expect(shape.attributes).toEqual(
      local.AttributeDefinitions!.map((a) => ({ name: a.AttributeName, type: a.AttributeType })),
    );
    expect(shape.hashKey).toBe(local.KeySchema![0]!.AttributeName);
    expect(shape.rangeKey).toBe(local.KeySchema![1]?.AttributeName);
    expect((shape.globalSecondaryIndexes ?? []).map((g) => g.name)).toEqual(
      (local.GlobalSecondaryIndexes ?? []).map((g) => g.IndexName),
    );
  });

  test("attributes are exactly the key attributes (DynamoDB rejects unused definitions), TTL only when declared", () => {
    const def: TableDefinition = {
      suffix: "x",
      envVar: "X",
      partitionKey: { name: "pk", type: "S" },
      sortKey: { name: "sk", type: "N" },
      indexes: [
        {
          name: "byOther",
          partitionKey: { name: "other", type: "S" },
          sortKey: { name: "pk", type: "S" },
          nonKeyAttributes: ["a"],
        },
      ],
      ttlAttribute: "expiresAt",
    };
    const shape = tableShape(def);
    expect(shape.attributes).toEqual([
      { name: "pk", type: "S" },
      { name: "sk", type: "N" },
      { name: "other", type: "S" },
    ]);
    expect(shape.globalSecondaryIndexes).toEqual([
      {
        name: "byOther",
        keySchemas: [
          { attributeName: "other", keyType: "HASH" },
          { attributeName: "pk", keyType: "RANGE" },
        ],
        projectionType: "INCLUDE",
        nonKeyAttributes: ["a"],
      },
    ]);
    expect(shape.ttl).toEqual({ attributeName: "expiresAt", enabled: true });
    expect(tableShape({ ...def, ttlAttribute: undefined, indexes: [] })).not.toHaveProperty("ttl");
    expect(tableShape({ ...def, indexes: [] })).not.toHaveProperty("globalSecondaryIndexes");
  });
});

describe("IAM policy documents", () => {
  const persister = persisterPolicyDocument({
    inboundQueueArn: q("p-inbound.fifo"),
    notifyQueueArn: q("p-notify"),
    logGroupArn: "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/lambda/p-persister",
    tables: [
      { arn: arn("p-messages"), def: tables.messages },
      { arn: arn("p-connections"), def: tables.connections },
    ],
  });

  test("index ARNs only for tables whose contract has GSIs", () => {
    expect(tableResourceArns(arn("a"), tables.messages)).toEqual([arn("a")]);
    expect(tableResourceArns(arn("a"), tables.users)).toEqual([arn("a"), `${arn("a")}/index/*`]);
    const dynamo = persister.Statement.find((s) => s.Sid === "Tables")!;
    expect(dynamo.Resource).toEqual([arn("p-messages"), arn("p-connections"), `${arn("p-connections")}/index/*`]);
  });

  test("the persister consumes only inbound and publishes only to notify; no Scan, no table-level actions", () => {
    const consume = persister.Statement.find((s) => s.Action.includes("sqs:ReceiveMessage"))!;
    expect(consume.Resource).toEqual([q("p-inbound.fifo")]);
    const send = persister.Statement.find((s) => s.Action.includes("sqs:SendMessage"))!;
    expect(send.Resource).toEqual([q("p-notify")]);
    const actions = persister.Statement.flatMap((s) => s.Action);
    for (const forbidden of ["dynamodb:Scan", "dynamodb:DeleteTable", "dynamodb:*", "sqs:*", "sqs:DeleteQueue"]) {
      expect(actions).not.toContain(forbidden);
    }
    expect(persister.Statement.find((s) => s.Sid === "Logs")!.Resource).toEqual([
      "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/lambda/p-persister:*",
    ]);
  });

  test("the persister may change message visibility (retry backoff, poison to the DLQ) on inbound only", () => {
    const onQueue = (action: string) =>
      persister.Statement.filter((s) => s.Effect === "Allow" && s.Action.includes(action)).flatMap((s) => s.Resource);
    expect(onQueue("sqs:ChangeMessageVisibility")).toEqual([q("p-inbound.fifo")]);
    // The DLQ is reached through the redrive policy, never by the persister itself.
    expect(onQueue("sqs:SendMessage")).not.toContain(q("p-inbound-dlq.fifo"));
    expect(onQueue("sqs:DeleteMessage")).toEqual([q("p-inbound.fifo")]);
  });

  test("the gateway enqueues inbound and consumes notify", () => {
    const doc = gatewayTaskPolicyDocument({ inboundQueueArn: q("i.fifo"), notifyQueueArn: q("n"), tables: [] });
    expect(doc.Statement.find((s) => s.Action.includes("sqs:SendMessage"))!.Resource).toEqual([q("i.fifo")]);
    expect(doc.Statement.find((s) => s.Action.includes("sqs:ReceiveMessage"))!.Resource).toEqual([q("n")]);
  });

  test("wildcardDataStatements finds data actions on * or on account-wide ARNs, and nothing else", () => {
    const doc = (Resource: string[], Action = ["dynamodb:GetItem"]): PolicyDocument => ({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action, Resource }],
    });
    expect(wildcardDataStatements(doc(["*"]))).toHaveLength(1);
    expect(wildcardDataStatements(doc(["arn:aws:dynamodb:eu-west-1:111122223333:table/*"]))).toHaveLength(1);
    expect(wildcardDataStatements(doc(["arn:aws:sqs:eu-west-1:111122223333:*"], ["sqs:SendMessage"]))).toHaveLength(1);
    expect(wildcardDataStatements(doc(["*"], ["*"]))).toHaveLength(1);
    expect(wildcardDataStatements(doc([arn("t")]))).toEqual([]);
    expect(wildcardDataStatements(doc(["*"], ["logs:CreateLogGroup"]))).toEqual([]);
    expect(wildcardDataStatements(persister)).toEqual([]);
  });

  test("secrets: Secrets Manager ARNs get GetSecretValue, SSM parameters GetParameters, anything else is refused", () => {
    const sm = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:p/jwt-AbCdEf";
    const ssm = "arn:aws:ssm:eu-west-1:111122223333:parameter/p/internal";
    expect(secretsReadPolicyDocument([sm, ssm]).Statement).toEqual([
      { Sid: "ReadSecrets", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [sm] },
      { Sid: "ReadParameters", Effect: "Allow", Action: ["ssm:GetParameters"], Resource: [ssm] },
    ]);
    expect(() => secretsReadPolicyDocument(["*"])).toThrow(/Secrets Manager or SSM/);
  });
});

describe("small derivations", () => {
  test("Lambda runtimes: nodejs22.x and newer only", () => {
    expect(isSupportedNodeRuntime("nodejs22.x")).toBe(true);
    expect(isSupportedNodeRuntime("nodejs24.x")).toBe(true);
    expect(isSupportedNodeRuntime("nodejs20.x")).toBe(false);
    expect(isSupportedNodeRuntime("python3.13")).toBe(false);
  });

  test("the contracts' inbound visibility timeout covers 6 x the persister timeout; batch within Lambda's FIFO cap", () => {
    expect(visibilityCoversRetries(queues.inbound.visibilityTimeoutSeconds, PERSISTER_TIMEOUT_SECONDS)).toBe(true);
    expect(visibilityCoversRetries(179, 30)).toBe(false);
    expect(MAX_PERSISTER_BATCH).toBeLessThanOrEqual(10);
  });

  test("autoscaling ids", () => {
    expect(ecsServiceResourceId("c", "s")).toBe("service/c/s");
    expect(albRequestCountLabel("app/lb/1", "targetgroup/tg/2")).toBe("app/lb/1/targetgroup/tg/2");
  });
});

describe("iamRoleName", () => {
  test("prefix, purpose and region: unique per region, within IAM's 64 characters for the longest prefix and region", () => {
    expect(iamRoleName("parley-dev", "persister", "eu-west-1")).toBe("parley-dev-persister-eu-west-1");
    const longest = iamRoleName("p".repeat(29), "gateway-exec", "ap-southeast-2");
    expect(longest.length).toBeLessThanOrEqual(64);
  });

  test("a name over 64 characters fails naming the limit", () => {
    expect(() => iamRoleName("p".repeat(40), "gateway-exec", "ap-southeast-2")).toThrow(/64/);
  });
});

describe("ignoreAutoscaledDesiredCount", () => {
  const base = { name: "gateway-service", props: { desiredCount: 2 }, opts: { ignoreChanges: ["tags"] } };

  test("adds desiredCount to the ECS service's ignoreChanges, keeping what was there", () => {
    const result = ignoreAutoscaledDesiredCount({ ...base, type: "aws:ecs/service:Service", custom: true });
    expect(result?.props).toEqual({ desiredCount: 2 });
    expect(result?.opts.ignoreChanges).toEqual(["tags", "desiredCount"]);
  });

  test("leaves every other resource untouched", () => {
    expect(
      ignoreAutoscaledDesiredCount({ ...base, type: "aws:ecs/taskDefinition:TaskDefinition", custom: true }),
    ).toBeUndefined();
  });
});
