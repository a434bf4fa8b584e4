/** Pure helpers of the components: no Pulumi runtime, no mocks. */
import {
  gatewayTables,
  MAX_PERSISTER_BATCH,
  PERSISTER_TIMEOUT_SECONDS,
  persisterTables,
  queues,
  tableKeys,
  tables,
  type TableDefinition,
} from "../../runtime/contracts";
import { createTableInput } from "../../runtime/local/provision";
import { albRequestCountLabel, ecsServiceResourceId, ignoreAutoscaledDesiredCount } from "../../components/ecs-names";
import {
  gatewayTaskPolicyDocument,
  iamRoleName,
  isSupportedNodeRuntime,
  persisterPolicyDocument,
  gatewayTableAccess,
  persisterTableAccess,
  secretsReadPolicyDocument,
  tableStatements,
  visibilityCoversRetries,
  wildcardDataStatements,
  type PolicyDocument,
} from "../../components/policies";
import { tableShape } from "../../components/table-shape";

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
    tableArns: {
      conversations: arn("p-conversations"),
      messages: arn("p-messages"),
      dedupe: arn("p-dedupe"),
      memberships: arn("p-memberships"),
    },
  });
  const gateway = gatewayTaskPolicyDocument({
    inboundQueueArn: q("p-inbound.fifo"),
    notifyQueueArn: q("p-notify"),
    tableArns: Object.fromEntries(gatewayTables.map((k) => [k, arn(`p-${k}`)])) as Record<
      (typeof gatewayTables)[number],
      string
    >,
  });

  /** Resource → sorted actions, over every statement of a document: the exact grant, whatever the grouping. */
  function grants(doc: PolicyDocument): Record<string, string[]> {
    const out: Record<string, Set<string>> = {};
    for (const s of doc.Statement) {
      expect(s.Effect).toBe("Allow");
      for (const r of s.Resource) for (const a of s.Action) (out[r] ??= new Set()).add(a);
    }
    return Object.fromEntries(Object.entries(out).map(([r, a]) => [r, [...a].sort()]));
  }

  test("gateway role: exactly these actions per table and index (traced from runtime/gateway's store calls)", () => {
    const g = grants(gateway);
    const table = (k: string) => g[arn(`p-${k}`)];
    expect(table("users")).toEqual(["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]);
    expect(g[`${arn("p-users")}/index/byDirectory`]).toEqual(["dynamodb:Query"]);
    expect(table("conversations")).toEqual(["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:PutItem"]);
    expect(table("memberships")).toEqual([
      "dynamodb:BatchGetItem",
      "dynamodb:PutItem",
      "dynamodb:Query",
      "dynamodb:UpdateItem",
    ]);
    expect(table("messages")).toEqual(["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:Query"]);
    expect(table("connections")).toEqual([
      "dynamodb:BatchGetItem",
      "dynamodb:BatchWriteItem",
      "dynamodb:DeleteItem",
      "dynamodb:PutItem",
      "dynamodb:UpdateItem",
    ]);
    expect(g[`${arn("p-connections")}/index/byUser`]).toEqual(["dynamodb:Query"]);
    expect(g[`${arn("p-connections")}/index/byGateway`]).toEqual(["dynamodb:Query"]);
    expect(table("auth")).toEqual([
      "dynamodb:DeleteItem",
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:UpdateItem",
    ]);
    expect(g[q("p-inbound.fifo")]).toEqual(["sqs:SendMessage"]);
    expect(g[q("p-notify")]).toEqual(["sqs:DeleteMessage", "sqs:ReceiveMessage"]);
    // Nothing else: no dedupe table, no other index, no wildcard index.
    expect(Object.keys(g)).toHaveLength(gatewayTables.length + 3 + 2);
  });

  test("the gateway cannot put, update or delete messages: it reads history; the persister alone writes it", () => {
    const onMessages = gateway.Statement.filter((s) => s.Resource.includes(arn("p-messages"))).flatMap((s) => s.Action);
    for (const write of [
      "dynamodb:PutItem",
      "dynamodb:UpdateItem",
      "dynamodb:DeleteItem",
      "dynamodb:BatchWriteItem",
      "dynamodb:PartiQLInsert",
      "dynamodb:*",
    ]) {
      expect(onMessages).not.toContain(write);
    }
    expect([...onMessages].sort()).toEqual(["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:Query"]);
  });

  test("persister role: exactly these actions per table, no index grants, its queues and log group", () => {
    expect(grants(persister)).toEqual({
      [arn("p-conversations")]: ["dynamodb:GetItem", "dynamodb:UpdateItem"],
      [arn("p-messages")]: [
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
      ],
      [arn("p-dedupe")]: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
      [arn("p-memberships")]: ["dynamodb:DeleteItem", "dynamodb:PutItem"],
      [q("p-inbound.fifo")]: [
        "sqs:ChangeMessageVisibility",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "sqs:ReceiveMessage",
      ],
      [q("p-notify")]: ["sqs:SendMessage"],
      "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/lambda/p-persister:*": [
        "logs:CreateLogStream",
        "logs:PutLogEvents",
      ],
    });
  });

  test("the access maps cover exactly each role's contract tables, and query only indexes the contract defines", () => {
    expect(Object.keys(gatewayTableAccess).sort()).toEqual([...gatewayTables].sort());
    expect(Object.keys(persisterTableAccess).sort()).toEqual([...persisterTables].sort());
    for (const access of [gatewayTableAccess, persisterTableAccess]) {
      for (const [key, a] of Object.entries(access) as [keyof typeof tables, { queryIndexes?: readonly string[] }][]) {
        const defined = tables[key].indexes.map((i: { name: string }) => i.name);
        for (const i of a.queryIndexes ?? []) expect(defined).toContain(i);
      }
    }
    expect(() => tableStatements(persisterTableAccess, { conversations: "a", messages: "b" } as never)).toThrow(
      /tableArns must name exactly conversations, dedupe, memberships, messages/,
    );
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
    // No resource-level permission exists for it, and it reads no data.
    expect(wildcardDataStatements(doc(["*"], ["secretsmanager:GetRandomPassword"]))).toEqual([]);
    expect(wildcardDataStatements(doc(["*"], ["secretsmanager:GetSecretValue"]))).toHaveLength(1);
    expect(wildcardDataStatements(persister)).toEqual([]);
    expect(wildcardDataStatements(gateway)).toEqual([]);
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
