/**
 * The Pulumi program under mocks: what a deploy would create, asserted on the recorded inputs.
 * Security Hub FSBP controls each block covers are named in the test titles.
 */
import {
  conversationSettings,
  env,
  gatewaySecretEnvVars,
  gatewayTables,
  LB_HEALTH_PATH,
  loadGatewayConfig,
  loadPersisterConfig,
  persisterEnvVars,
  persisterTables,
  queueKeys,
  queueNamesFor,
  queues,
  tableKeys,
  tables,
  type TableKey,
} from "../../runtime/contracts";
import { createTableInput } from "../../runtime/local/provision";
import { isSupportedNodeRuntime, wildcardDataStatements, type PolicyDocument } from "../../components/policies";
import { loadProgram, promiseOf, ACCOUNT, REGION, type LoadedProgram, type Recorded } from "./mocks";
import { timing } from "../support/timing";

// Each loadProgram imports all of @pulumi/aws afresh: 10-60 s of CPU here, several times that under load.
jest.setTimeout(timing.ms(300_000));

const PREFIX = "parley-test";
const arnOfQueue = (name: string) => `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`;
const arnOfTable = (k: TableKey) => `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${PREFIX}-${tables[k].suffix}`;

/** The persister's env names: the contracts' list and the edit window, which the gateways get too. */
const persisterEnvNames = [...new Set([...persisterEnvVars, env.editWindowSeconds])].sort();

/** The gateway container's plain environment, by name. */
function gatewayEnv(p: LoadedProgram): Record<string, string> {
  const c = p.one("awsx:ecs:FargateService", "gateway-service").inputs.taskDefinitionArgs.container;
  return Object.fromEntries(c.environment.map((e: { name: string; value: string }) => [e.name, e.value]));
}

function policies(p: LoadedProgram): { name: string; doc: PolicyDocument }[] {
  return p.ofType("aws:iam/rolePolicy:RolePolicy").map((r) => ({ name: r.name, doc: JSON.parse(r.inputs.policy) }));
}

function resourcesOf(doc: PolicyDocument, prefix: "sqs" | "dynamodb"): string[] {
  return doc.Statement.filter((s) => s.Action.some((a) => a.startsWith(`${prefix}:`))).flatMap((s) => s.Resource);
}

describe("default stack (new VPC with NAT, no certificate, built image, generated secrets)", () => {
  let p: LoadedProgram;
  beforeAll(async () => {
    p = await loadProgram({ deletionProtection: "false", persisterBatchSize: "7", persisterMemoryMb: "768" });
  });

  test("both queues and DLQs: FIFO per contract, SSE, redrive with the contract's maxReceiveCount (SQS.1)", () => {
    for (const key of queueKeys) {
      const names = queueNamesFor(PREFIX, key);
      const main = p.one("aws:sqs/queue:Queue", `${key}-queue`).inputs;
      const dlq = p.one("aws:sqs/queue:Queue", `${key}-dlq`).inputs;
      expect(main.name).toBe(names.name);
      expect(dlq.name).toBe(names.dlqName);
      expect(Boolean(main.fifoQueue)).toBe(queues[key].fifo);
      expect(Boolean(dlq.fifoQueue)).toBe(queues[key].fifo);
      expect(main.sqsManagedSseEnabled).toBe(true);
      expect(dlq.sqsManagedSseEnabled).toBe(true);
      expect(main.messageRetentionSeconds).toBe(queues[key].messageRetentionSeconds);
      expect(dlq.messageRetentionSeconds).toBe(queues[key].dlqRetentionSeconds);
      expect(JSON.parse(main.redrivePolicy)).toEqual({
        deadLetterTargetArn: arnOfQueue(names.dlqName),
        maxReceiveCount: queues[key].maxReceiveCount,
      });
      const allow = p.one("aws:sqs/redriveAllowPolicy:RedriveAllowPolicy", `${key}-dlq-allow`).inputs;
      expect(JSON.parse(allow.redriveAllowPolicy)).toEqual({
        redrivePermission: "byQueue",
        sourceQueueArns: [arnOfQueue(names.name)],
      });
    }
    // Per-conversation order and dedupe without a queue-wide throughput cap.
    const inbound = p.one("aws:sqs/queue:Queue", "inbound-queue").inputs;
    expect(inbound).toMatchObject({ deduplicationScope: "messageGroup", fifoThroughputLimit: "perMessageGroupId" });
  });

  test("alarms on both DLQs (depth > 0) and on oldest-message age, to the alarm topic", () => {
    const topicArn = `arn:aws:sns:${REGION}:${ACCOUNT}:${PREFIX}-alarms`;
    for (const key of queueKeys) {
      const names = queueNamesFor(PREFIX, key);
      const depth = p.one("aws:cloudwatch/metricAlarm:MetricAlarm", `${key}-dlq-depth`).inputs;
      expect(depth).toMatchObject({
        namespace: "AWS/SQS",
        metricName: "ApproximateNumberOfMessagesVisible",
        dimensions: { QueueName: names.dlqName },
        threshold: 0,
        comparisonOperator: "GreaterThanThreshold",
      });
      expect(depth.alarmActions).toEqual([topicArn]);
      const age = p.one("aws:cloudwatch/metricAlarm:MetricAlarm", `${key}-oldest-message`).inputs;
      expect(age).toMatchObject({ metricName: "ApproximateAgeOfOldestMessage", dimensions: { QueueName: names.name } });
      expect(age.alarmActions).toEqual([topicArn]);
    }
  });

  test("tables match the contracts: keys, GSIs, TTL; on-demand, encrypted, PITR on (DynamoDB.2), deletion protection from config (DynamoDB.6)", () => {
    expect(p.ofType("aws:dynamodb/table:Table")).toHaveLength(tableKeys.length);
    for (const key of tableKeys) {
      const t = p.one("aws:dynamodb/table:Table", `tables-${key}`).inputs;
      const local = createTableInput(`${PREFIX}-${tables[key].suffix}`, tables[key]);
      expect(t.name).toBe(local.TableName);
      expect(t.billingMode).toBe("PAY_PER_REQUEST");
      expect(t.pointInTimeRecovery).toEqual({ enabled: true });
      expect(t.serverSideEncryption).toEqual({ enabled: true });
      expect(t.deletionProtectionEnabled).toBe(false);
      expect(new Set(t.attributes.map((a: { name: string; type: string }) => `${a.name}:${a.type}`))).toEqual(
        new Set(local.AttributeDefinitions!.map((a) => `${a.AttributeName}:${a.AttributeType}`)),
      );
      const keyOf = (type: string) => local.KeySchema!.find((s) => s.KeyType === type)?.AttributeName;
      expect(t.hashKey).toBe(keyOf("HASH"));
      expect(t.rangeKey).toBe(keyOf("RANGE"));
      const gsis = (t.globalSecondaryIndexes ?? []).map(
        (g: { name: string; keySchemas: unknown; projectionType: string; nonKeyAttributes?: string[] }) => ({
          name: g.name,
          keys: g.keySchemas,
          projection: g.projectionType,
          nonKey: g.nonKeyAttributes,
        }),
      );
      expect(gsis).toEqual(
        (local.GlobalSecondaryIndexes ?? []).map((g) => ({
          name: g.IndexName,
          keys: g.KeySchema!.map((k) => ({ attributeName: k.AttributeName, keyType: k.KeyType })),
          projection: g.Projection!.ProjectionType,
          nonKey: g.Projection!.NonKeyAttributes,
        })),
      );
      const ttl = tables[key] as { ttlAttribute?: string };
      expect(t.ttl).toEqual(ttl.ttlAttribute ? { attributeName: ttl.ttlAttribute, enabled: true } : undefined);
    }
  });

  test("every IAM statement for sqs:/dynamodb: names specific ARNs, never *", () => {
    const all = policies(p);
    expect(all.map((x) => x.name).sort()).toEqual([
      "gateway-execution-secrets",
      "gateway-task-policy",
      "persister-policy",
    ]);
    for (const { doc } of all) {
      expect(wildcardDataStatements(doc)).toEqual([]);
      for (const s of doc.Statement) expect(s.Resource).not.toContain("*");
    }
    // Only the ECS execution managed policy is attached anywhere (no CallbackFunction default FullAccess set).
    expect(p.ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment").map((r) => r.inputs.policyArn)).toEqual([
      "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
    ]);
  });

  test("IAM role names carry the region (IAM is account-global: the same prefix in a second region must not collide)", () => {
    const roles = p.ofType("aws:iam/role:Role");
    expect(roles.map((r) => r.inputs.name).sort()).toEqual(
      [`${PREFIX}-gateway-exec-${REGION}`, `${PREFIX}-gateway-task-${REGION}`, `${PREFIX}-persister-${REGION}`].sort(),
    );
    for (const r of roles) expect(r.inputs.name.length).toBeLessThanOrEqual(64);
  });

  test("persister role: its queues and exactly the persister tables, no index grants (none have GSIs)", () => {
    const doc = policies(p).find((x) => x.name === "persister-policy")!.doc;
    expect(new Set(resourcesOf(doc, "sqs"))).toEqual(
      new Set([arnOfQueue(queueNamesFor(PREFIX, "inbound").name), arnOfQueue(queueNamesFor(PREFIX, "notify").name)]),
    );
    expect(new Set(resourcesOf(doc, "dynamodb"))).toEqual(new Set(persisterTables.map(arnOfTable)));
    const onMessages = doc.Statement.filter((s) => s.Resource.includes(arnOfTable("messages"))).flatMap(
      (s) => s.Action,
    );
    expect([...onMessages].sort()).toEqual([
      "dynamodb:DeleteItem",
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:Query",
      "dynamodb:UpdateItem",
    ]);
    const consume = doc.Statement.find((s) => s.Action.includes("sqs:ReceiveMessage"))!;
    expect(consume.Resource).toEqual([arnOfQueue(queueNamesFor(PREFIX, "inbound").name)]);
    // Retry backoff and poison fast-path: visibility changes on its own source queue, nowhere else.
    expect(
      doc.Statement.filter((s) => s.Action.includes("sqs:ChangeMessageVisibility")).flatMap((s) => s.Resource),
    ).toEqual([arnOfQueue(queueNamesFor(PREFIX, "inbound").name)]);
  });

  test("gateway task role: exactly the gateway tables, and only the indexes it queries (never `/index/*`)", () => {
    const doc = policies(p).find((x) => x.name === "gateway-task-policy")!.doc;
    const expected = [
      ...gatewayTables.map(arnOfTable),
      `${arnOfTable("users")}/index/byDirectory`,
      `${arnOfTable("connections")}/index/byUser`,
      `${arnOfTable("connections")}/index/byGateway`,
    ];
    expect(new Set(resourcesOf(doc, "dynamodb"))).toEqual(new Set(expected));
    expect(resourcesOf(doc, "dynamodb")).not.toContain(arnOfTable("dedupe"));
    // It reads message history; only the persister writes messages.
    const onMessages = doc.Statement.filter((s) => s.Resource.includes(arnOfTable("messages"))).flatMap(
      (s) => s.Action,
    );
    expect([...onMessages].sort()).toEqual(["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:Query"]);
    const send = doc.Statement.find((s) => s.Action.includes("sqs:SendMessage"))!;
    expect(send.Resource).toEqual([arnOfQueue(queueNamesFor(PREFIX, "inbound").name)]);
    const exec = policies(p).find((x) => x.name === "gateway-execution-secrets")!.doc;
    expect(exec.Statement.flatMap((s) => s.Resource).sort()).toEqual(
      [`${PREFIX}/internal-secret`, `${PREFIX}/jwt-secret`].map(
        (n) => `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${n}-AbCdEf`,
      ),
    );
  });

  test("persister Lambda: runtime >= nodejs22.x (Lambda.2), config memory/timeout, env from the contracts, own role, log retention", async () => {
    const fn = p.one("aws:lambda/function:Function", "persister-function").inputs;
    expect(isSupportedNodeRuntime(fn.runtime)).toBe(true);
    expect(fn.memorySize).toBe(768);
    expect(fn.timeout).toBe(30);
    expect(fn.handler).toBe("__index.handler");
    expect(fn.role).toBe(`arn:aws:iam::${ACCOUNT}:role/${PREFIX}-persister-${REGION}`);
    expect(Object.keys(fn.environment.variables).sort()).toEqual(persisterEnvNames);
    // Unset in the stack: the runtime's default edit window, set explicitly, the same as the gateways'.
    expect(fn.environment.variables[env.editWindowSeconds]).toBe(
      String(conversationSettings.editWindowSeconds.default),
    );
    expect(fn.environment.variables[env.editWindowSeconds]).toBe(gatewayEnv(p)[env.editWindowSeconds]);
    expect(fn.environment.variables[queues.notify.envVar]).toBe(
      `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${queueNamesFor(PREFIX, "notify").name}`,
    );
    // Its own source queue, where it shortens failed records' visibility.
    expect(fn.environment.variables[queues.inbound.envVar]).toBe(
      `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${queueNamesFor(PREFIX, "inbound").name}`,
    );
    for (const k of persisterTables)
      expect(fn.environment.variables[tables[k].envVar]).toBe(`${PREFIX}-${tables[k].suffix}`);
    const inbound = p.one("aws:sqs/queue:Queue", "inbound-queue").inputs;
    expect(inbound.visibilityTimeoutSeconds).toBeGreaterThanOrEqual(6 * fn.timeout);
    const logs = p.one("aws:cloudwatch/logGroup:LogGroup", "persister-logs").inputs;
    expect(logs.name).toBe(`/aws/lambda/${PREFIX}-persister`);
    expect(logs.retentionInDays).toBe(30);
    expect(fn.loggingConfig.logGroup).toBe(logs.name);
  });

  test("event source mapping: inbound queue, batch size and maximum concurrency from config, reports batch item failures", () => {
    const esm = p.one("aws:lambda/eventSourceMapping:EventSourceMapping", "persister-source").inputs;
    expect(esm.eventSourceArn).toBe(arnOfQueue(queueNamesFor(PREFIX, "inbound").name));
    expect(esm.functionResponseTypes).toEqual(["ReportBatchItemFailures"]);
    expect(esm.batchSize).toBe(7);
    // A cap on concurrent invocations, so a backlog cannot take the account's Lambda concurrency.
    expect(esm.scalingConfig).toEqual({ maximumConcurrency: 2 });
    expect(esm.functionName).toBe(`arn:aws:lambda:${REGION}:${ACCOUNT}:function:${PREFIX}-persister`);
  });

  test("Fargate service: ports, env names from the contracts, secrets not in plain env, private subnets without public IP (ECS.2), non-root, read-only root fs (ECS.5), not privileged (ECS.4)", () => {
    const svc = p.one("awsx:ecs:FargateService", "gateway-service").inputs;
    const c = svc.taskDefinitionArgs.container;
    expect(c.portMappings.map((m: { containerPort: number }) => m.containerPort)).toEqual([8080, 8081]);
    expect(c.readonlyRootFilesystem).toBe(true);
    expect(c.privileged).toBe(false);
    expect(c.user).toMatch(/^[1-9]\d*(:[1-9]\d*)?$/);
    const names: string[] = c.environment.map((e: { name: string }) => e.name);
    const expected = [
      env.region,
      env.port,
      env.internalPort,
      env.allowedOrigins,
      env.webDir,
      env.logLevel,
      env.heartbeatMs,
      env.albIdleTimeoutSeconds,
      env.editWindowSeconds,
      queues.inbound.envVar,
      queues.notify.envVar,
      ...gatewayTables.map((k) => tables[k].envVar),
    ];
    expect([...names].sort()).toEqual([...expected].sort());
    // The gateway keeps idle connections open longer than the ALB does, so it needs the ALB's value.
    const idle = c.environment.find((e: { name: string }) => e.name === env.albIdleTimeoutSeconds);
    expect(idle.value).toBe(String(p.one("awsx:lb:ApplicationLoadBalancer", "gateway-alb").inputs.idleTimeout));
    expect(idle.value).toBe("120");
    // Local-only knobs never reach a task: no emulator endpoints, the advertise host comes from task metadata.
    for (const local of [env.sqsEndpoint, env.dynamodbEndpoint, env.advertiseHost]) expect(names).not.toContain(local);
    for (const secret of gatewaySecretEnvVars) expect(names).not.toContain(secret);
    expect(c.secrets.map((s: { name: string }) => s.name)).toEqual([...gatewaySecretEnvVars]);
    for (const s of c.secrets) expect(s.valueFrom).toMatch(/^arn:aws:secretsmanager:/);
    expect(svc.networkConfiguration.assignPublicIp).toBe(false);
    expect(svc.networkConfiguration.subnets).toEqual(["subnet-0b1", "subnet-0b2"]);
    expect(svc.loadBalancers).toEqual([expect.objectContaining({ containerName: "gateway", containerPort: 8080 })]);
    expect(svc.taskDefinitionArgs.taskRole).toEqual({
      roleArn: `arn:aws:iam::${ACCOUNT}:role/${PREFIX}-gateway-task-${REGION}`,
    });
    expect(c.logConfiguration.logDriver).toBe("awslogs");
    const vpc = p.one("awsx:ec2:Vpc", "gateway-network-vpc").inputs;
    // One NAT per AZ by default: an AZ failure must not cut every task off.
    expect(vpc.natGateways).toEqual({ strategy: "OnePerAz" });
  });

  test("a DynamoDB gateway endpoint on the private subnets' route tables, limited to the gateway's tables; no SQS endpoint unless asked", () => {
    const endpoints = p.ofType("aws:ec2/vpcEndpoint:VpcEndpoint");
    expect(endpoints.map((e) => e.inputs.serviceName)).toEqual([`com.amazonaws.${REGION}.dynamodb`]);
    const ddb = endpoints[0]!.inputs;
    expect(ddb).toMatchObject({ vpcId: "vpc-0abc", vpcEndpointType: "Gateway" });
    // The route tables EC2 reports for the task (private) subnets of this VPC.
    const lookup = p.calls.filter((c) => c.token === "aws:ec2/getRouteTables:getRouteTables");
    expect(lookup).toHaveLength(1);
    expect(lookup[0]!.inputs).toMatchObject({
      vpcId: "vpc-0abc",
      filters: [{ name: "association.subnet-id", values: ["subnet-0b1", "subnet-0b2"] }],
    });
    expect(ddb.routeTableIds).toEqual(["rtb-0b1", "rtb-0b2"]);
    const policy = JSON.parse(ddb.policy) as PolicyDocument;
    for (const st of policy.Statement) {
      expect(st.Principal).toBe("*");
      for (const a of st.Action) expect(a).toMatch(/^dynamodb:/);
    }
    const tablesReached = new Set(
      policy.Statement.flatMap((st) => st.Resource).map((r) => r.replace(/\/index\/.*$/, "")),
    );
    expect(tablesReached).toEqual(new Set(gatewayTables.map(arnOfTable)));
    expect(
      p
        .ofType("aws:ec2/securityGroup:SecurityGroup")
        .map((g) => g.name)
        .sort(),
    ).toEqual(["gateway-alb-sg", "gateway-task-sg"]);
  });

  test("ALB: idle timeout above the heartbeat, invalid headers dropped (ELB.4), defensive desync mode (ELB.12), load balancer health check path", () => {
    const alb = p.one("awsx:lb:ApplicationLoadBalancer", "gateway-alb").inputs;
    expect(alb.idleTimeout).toBeGreaterThan((2 * 25_000) / 1000);
    expect(alb.dropInvalidHeaderFields).toBe(true);
    expect(alb.desyncMitigationMode).toBe("defensive");
    expect(alb.enableDeletionProtection).toBe(false);
    expect(alb.defaultTargetGroup).toMatchObject({ port: 8080, protocol: "HTTP", targetType: "ip" });
    expect(alb.defaultTargetGroup.healthCheck).toMatchObject({ path: LB_HEALTH_PATH, matcher: "200" });
    expect(alb.listeners).toEqual([{ port: 80, protocol: "HTTP" }]);
  });

  test("the internal port is reachable only from gateway tasks (self-referencing rule), never via the ALB", () => {
    const taskSg = p.one("aws:ec2/securityGroup:SecurityGroup", "gateway-task-sg");
    const albSg = p.one("aws:ec2/securityGroup:SecurityGroup", "gateway-alb-sg");
    expect(taskSg).toBeDefined();
    const ingress = p.ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").map((r) => r.inputs);
    const onInternal = ingress.filter((r) => r.fromPort <= 8081 && r.toPort >= 8081);
    expect(onInternal).toHaveLength(1);
    expect(onInternal[0].securityGroupId).toBe(onInternal[0].referencedSecurityGroupId);
    const toTasks = ingress.filter((r) => r.securityGroupId === onInternal[0].securityGroupId);
    for (const r of toTasks) expect(r.cidrIpv4 ?? r.cidrIpv6).toBeUndefined();
    const albIngress = ingress.filter((r) => r.cidrIpv4 || r.cidrIpv6);
    expect(albIngress.every((r) => r.fromPort === 80)).toBe(true);
    expect(albSg.name).toBe("gateway-alb-sg");
  });

  test("autoscaling on CPU and on ALB requests per target, between min and max", () => {
    const target = p.one("aws:appautoscaling/target:Target", "gateway-scaling").inputs;
    expect(target).toMatchObject({
      minCapacity: 2,
      maxCapacity: 10,
      resourceId: `service/${PREFIX}/${PREFIX}-gateway`,
      scalableDimension: "ecs:service:DesiredCount",
    });
    const metrics = p
      .ofType("aws:appautoscaling/policy:Policy")
      .map((r: Recorded) => r.inputs.targetTrackingScalingPolicyConfiguration.predefinedMetricSpecification);
    expect(metrics.map((m) => m.predefinedMetricType).sort()).toEqual([
      "ALBRequestCountPerTarget",
      "ECSServiceAverageCPUUtilization",
    ]);
    const requests = metrics.find((m) => m.predefinedMetricType === "ALBRequestCountPerTarget");
    expect(requests.resourceLabel).toBe("app/gateway-alb/50dc6c495c0c9188/targetgroup/gateway-alb/73e2d6bc24d8a067");
  });

  test("`pulumi up` leaves the autoscaled desired count alone: ignored on the service and, via a transform, on its aws.ecs.Service", async () => {
    const svc = p.one("awsx:ecs:FargateService", "gateway-service");
    expect(svc.inputs.desiredCount).toBe(2);
    expect(svc.opts.ignoreChanges).toEqual(["desiredCount"]);
    // Component options never reach the awsx component's children; the transform does, so run it on one.
    expect(svc.opts.transforms).toHaveLength(1);
    const child = { type: "aws:ecs/service:Service", name: "gateway-service", custom: true, props: {}, opts: {} };
    const result = await svc.opts.transforms[0]!(child);
    expect(result?.opts.ignoreChanges).toEqual(["desiredCount"]);
  });

  test("dashboard covers queues and DLQs, the persister, ECS and the ALB; gateway alarms go to the topic", () => {
    const body = JSON.parse(
      p.one("aws:cloudwatch/dashboard:Dashboard", "monitoring-dashboard").inputs.dashboardBody,
    ) as {
      widgets: { properties: { metrics: (string | object)[][]; region: string } }[];
    };
    const metrics = body.widgets.flatMap((w) =>
      w.properties.metrics.map((m) => m.filter((x) => typeof x === "string").join(" ")),
    );
    for (const key of queueKeys) {
      const names = queueNamesFor(PREFIX, key);
      expect(metrics).toContain(`AWS/SQS ApproximateNumberOfMessagesVisible QueueName ${names.name}`);
      expect(metrics).toContain(`AWS/SQS ApproximateNumberOfMessagesVisible QueueName ${names.dlqName}`);
      expect(metrics).toContain(`AWS/SQS ApproximateAgeOfOldestMessage QueueName ${names.name}`);
    }
    for (const m of ["Errors", "Duration", "Throttles"])
      expect(metrics).toContain(`AWS/Lambda ${m} FunctionName ${PREFIX}-persister`);
    for (const m of ["CPUUtilization", "MemoryUtilization"]) {
      expect(metrics).toContain(`AWS/ECS ${m} ClusterName ${PREFIX} ServiceName ${PREFIX}-gateway`);
    }
    for (const m of ["HTTPCode_ELB_5XX_Count", "ActiveConnectionCount"]) {
      expect(metrics).toContain(`AWS/ApplicationELB ${m} LoadBalancer app/gateway-alb/50dc6c495c0c9188`);
    }
    expect(new Set(body.widgets.map((w) => w.properties.region))).toEqual(new Set([REGION]));
    const topicArn = `arn:aws:sns:${REGION}:${ACCOUNT}:${PREFIX}-alarms`;
    for (const name of ["monitoring-alb-5xx", "monitoring-no-healthy-gateways", "monitoring-gateway-cpu"]) {
      expect(p.one("aws:cloudwatch/metricAlarm:MetricAlarm", name).inputs.alarmActions).toEqual([topicArn]);
    }
  });

  describe("alarms beyond the queues: the gateways' 5xx, persister throttles and error rate, notify age", () => {
    const topicArn = `arn:aws:sns:${REGION}:${ACCOUNT}:${PREFIX}-alarms`;
    const alarm = (name: string) => p.one("aws:cloudwatch/metricAlarm:MetricAlarm", name).inputs;
    const fn = { FunctionName: `${PREFIX}-persister` };

    test("HTTPCode_Target_5XX_Count of the gateway target group", () => {
      expect(alarm("monitoring-target-5xx")).toMatchObject({
        namespace: "AWS/ApplicationELB",
        metricName: "HTTPCode_Target_5XX_Count",
        dimensions: {
          LoadBalancer: "app/gateway-alb/50dc6c495c0c9188",
          TargetGroup: "targetgroup/gateway-alb/73e2d6bc24d8a067",
        },
        statistic: "Sum",
        threshold: 10,
        comparisonOperator: "GreaterThanThreshold",
        alarmActions: [topicArn],
      });
    });

    test("any persister throttle", () => {
      expect(alarm("persister-throttles")).toMatchObject({
        namespace: "AWS/Lambda",
        metricName: "Throttles",
        dimensions: fn,
        statistic: "Sum",
        threshold: 0,
        alarmActions: [topicArn],
      });
    });

    test("the persister's error rate: metric math errors / invocations above 5 %, not a raw count", () => {
      const rate = alarm("persister-error-rate");
      expect(rate.metricName).toBeUndefined();
      expect(rate).toMatchObject({
        threshold: 5,
        comparisonOperator: "GreaterThanThreshold",
        alarmActions: [topicArn],
      });
      const byId = Object.fromEntries(rate.metricQueries.map((q: { id: string }) => [q.id, q]));
      expect(byId.errors.metric).toMatchObject({
        namespace: "AWS/Lambda",
        metricName: "Errors",
        dimensions: fn,
        stat: "Sum",
      });
      expect(byId.invocations.metric).toMatchObject({
        namespace: "AWS/Lambda",
        metricName: "Invocations",
        dimensions: fn,
        stat: "Sum",
      });
      expect(byId.errors.returnData).toBe(false);
      const result = rate.metricQueries.filter((q: { returnData: boolean }) => q.returnData);
      expect(result).toHaveLength(1);
      expect(result[0].expression).toMatch(/100 \* errors \/ invocations/);
      // No raw error-count alarm next to it.
      expect(
        p.ofType("aws:cloudwatch/metricAlarm:MetricAlarm").filter((a) => a.inputs.metricName === "Errors"),
      ).toEqual([]);
    });

    test("the notify queue's oldest message older than 2 minutes", () => {
      expect(alarm("notify-oldest-message")).toMatchObject({
        namespace: "AWS/SQS",
        metricName: "ApproximateAgeOfOldestMessage",
        dimensions: { QueueName: queueNamesFor(PREFIX, "notify").name },
        statistic: "Maximum",
        threshold: 120,
        alarmActions: [topicArn],
      });
    });

    test("without parley:alarmEmail the topic has no subscriber, and `up` warns once saying so", () => {
      expect(p.ofType("aws:sns/topicSubscription:TopicSubscription")).toEqual([]);
      const warned = p.warnings.filter((w) => w.includes("parley:alarmEmail"));
      expect(warned).toHaveLength(1);
      expect(warned[0]).toMatch(new RegExp(`${PREFIX}-alarms.*notify nobody`));
    });
  });

  test("generated secrets are force-deleted on destroy, so an `up` with the same prefix works right after", () => {
    const secrets = p.ofType("aws:secretsmanager/secret:Secret");
    expect(secrets.map((r) => r.inputs.name).sort()).toEqual([`${PREFIX}/internal-secret`, `${PREFIX}/jwt-secret`]);
    for (const s of secrets) expect(s.inputs.recoveryWindowInDays).toBe(0);
  });

  test("image built from the repo Dockerfile into ECR when no image is configured", () => {
    const image = p.one("awsx:ecr:Image", "gateway-image").inputs;
    expect(image.dockerfile).toMatch(/\/Dockerfile$/);
    expect(image.platform).toBe("linux/amd64");
    const svc = p.one("awsx:ecs:FargateService", "gateway-service").inputs;
    expect(svc.taskDefinitionArgs.container.image).toMatch(/\.dkr\.ecr\..*@sha256:/);
  });

  test("exports: app and WebSocket URLs, queue URLs, table names, dashboard URL", async () => {
    const out = p.program;
    expect(await promiseOf(out.appUrl)).toBe(`http://gateway-alb-123456.${REGION}.elb.amazonaws.com`);
    expect(await promiseOf(out.wsUrl)).toBe(`ws://gateway-alb-123456.${REGION}.elb.amazonaws.com/ws`);
    expect(await promiseOf(out.inboundQueueUrl)).toMatch(/parley-test-inbound\.fifo$/);
    expect(await promiseOf(out.notifyQueueUrl)).toMatch(/parley-test-notify$/);
    expect(await promiseOf(out.dashboardUrl)).toBe(
      `https://${REGION}.console.aws.amazon.com/cloudwatch/home?region=${REGION}#dashboards:name=${PREFIX}`,
    );
    const names = await Promise.all(tableKeys.map((k) => promiseOf(out.tableNames[k])));
    expect(names).toEqual(tableKeys.map((k) => `${PREFIX}-${tables[k].suffix}`));
    const origins = p
      .one("awsx:ecs:FargateService", "gateway-service")
      .inputs.taskDefinitionArgs.container.environment.find((e: { name: string }) => e.name === env.allowedOrigins);
    expect(origins.value).toBe(await promiseOf(out.appUrl));
  });
});

describe("certificate, existing VPC without private subnets, existing secret, prebuilt image", () => {
  let p: LoadedProgram;
  const cert = `arn:aws:acm:${REGION}:${ACCOUNT}:certificate/0b1c2d3e`;
  const jwtArn = `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/parley/jwt`;
  beforeAll(async () => {
    p = await loadProgram({
      certificateArn: cert,
      publicOrigin: "https://chat.example.com",
      vpcId: "vpc-0123",
      publicSubnetIds: "subnet-0aa,subnet-0bb",
      jwtSecretArn: jwtArn,
      gatewayImage: `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/parley:1.0.0`,
      alarmEmail: "ops@example.com",
    });
  });

  test("with parley:alarmEmail the topic has an email subscriber and `up` does not warn about it", () => {
    const sub = p.one("aws:sns/topicSubscription:TopicSubscription", "alerts-email").inputs;
    expect(sub).toMatchObject({ protocol: "email", endpoint: "ops@example.com" });
    expect(p.warnings.filter((w) => w.includes("parley:alarmEmail"))).toEqual([]);
  });

  test("HTTPS listener with the certificate and HTTP redirected to it (ELB.1); ALB deletion protection on (ELB.6)", () => {
    const alb = p.one("awsx:lb:ApplicationLoadBalancer", "gateway-alb").inputs;
    expect(alb.listeners).toEqual([
      {
        port: 80,
        protocol: "HTTP",
        defaultActions: [{ type: "redirect", redirect: { port: "443", protocol: "HTTPS", statusCode: "HTTP_301" } }],
      },
      { port: 443, protocol: "HTTPS", certificateArn: cert, sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06" },
    ]);
    expect(alb.enableDeletionProtection).toBe(true);
    expect(alb.subnetIds).toEqual(["subnet-0aa", "subnet-0bb"]);
    for (const t of p.ofType("aws:dynamodb/table:Table")) expect(t.inputs.deletionProtectionEnabled).toBe(true);
  });

  test("no NAT path: tasks in the public subnets with a public IP; no VPC or image is built", () => {
    const svc = p.one("awsx:ecs:FargateService", "gateway-service").inputs;
    expect(svc.networkConfiguration).toMatchObject({ assignPublicIp: true, subnets: ["subnet-0aa", "subnet-0bb"] });
    expect(svc.taskDefinitionArgs.container.image).toBe(`${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/parley:1.0.0`);
    expect(p.ofType("awsx:ec2:Vpc")).toEqual([]);
    expect(p.ofType("awsx:ecr:Image")).toEqual([]);
  });

  test("an existing VPC gets no endpoints unless asked: its route tables belong to its owner", () => {
    expect(p.ofType("aws:ec2/vpcEndpoint:VpcEndpoint")).toEqual([]);
    expect(p.calls.filter((c) => c.token === "aws:ec2/getRouteTables:getRouteTables")).toEqual([]);
  });

  test("an existing SSM parameter for the JWT secret is used as-is; only the internal secret is generated", () => {
    const svc = p.one("awsx:ecs:FargateService", "gateway-service").inputs;
    const secrets = Object.fromEntries(
      svc.taskDefinitionArgs.container.secrets.map((s: { name: string; valueFrom: string }) => [s.name, s.valueFrom]),
    );
    expect(secrets[env.jwtSecret]).toBe(jwtArn);
    expect(p.ofType("aws:secretsmanager/secret:Secret").map((r) => r.inputs.name)).toEqual([
      `${PREFIX}/internal-secret`,
    ]);
    const exec = JSON.parse(
      p.one("aws:iam/rolePolicy:RolePolicy", "gateway-execution-secrets").inputs.policy,
    ) as PolicyDocument;
    expect(exec.Statement.find((s) => s.Action.includes("ssm:GetParameters"))!.Resource).toEqual([jwtArn]);
  });

  test("URLs use the public origin", async () => {
    expect(await promiseOf(p.program.appUrl)).toBe("https://chat.example.com");
    expect(await promiseOf(p.program.wsUrl)).toBe("wss://chat.example.com/ws");
  });
});

describe("single NAT with the SQS interface endpoint, a 10-minute edit window", () => {
  let p: LoadedProgram;
  beforeAll(async () => {
    p = await loadProgram({ natGateways: "Single", sqsInterfaceEndpoint: "true", editWindowSeconds: "600" });
  });

  test("parley:editWindowSeconds reaches the gateway container and the persister function as one value, which both runtimes read", () => {
    const gateway = gatewayEnv(p);
    const persister = p.one("aws:lambda/function:Function", "persister-function").inputs.environment.variables;
    expect(gateway[env.editWindowSeconds]).toBe("600");
    expect(persister[env.editWindowSeconds]).toBe("600");
    expect(Object.keys(persister).sort()).toEqual(persisterEnvNames);
    // What each process makes of its own environment (the secrets come from ECS at start): the same window, so
    // the gateway accepts no edit the persister then refuses as poison.
    const secrets = Object.fromEntries(gatewaySecretEnvVars.map((n) => [n, "s".repeat(32)]));
    expect(loadGatewayConfig({ ...gateway, ...secrets }).editWindowMs).toBe(600_000);
    expect(loadPersisterConfig(persister).editWindowMs).toBe(600_000);
  });

  test("the SQS interface endpoint sits in the task subnets with private DNS, reachable on 443 from the tasks only, limited to the stack's queues", () => {
    expect(p.one("awsx:ec2:Vpc", "gateway-network-vpc").inputs.natGateways).toEqual({ strategy: "Single" });
    const sqs = p.one("aws:ec2/vpcEndpoint:VpcEndpoint", "gateway-endpoints-sqs").inputs;
    expect(sqs).toMatchObject({
      vpcId: "vpc-0abc",
      serviceName: `com.amazonaws.${REGION}.sqs`,
      vpcEndpointType: "Interface",
      subnetIds: ["subnet-0b1", "subnet-0b2"],
      privateDnsEnabled: true,
    });
    expect(p.one("aws:ec2/vpcEndpoint:VpcEndpoint", "gateway-endpoints-dynamodb").inputs.vpcEndpointType).toBe(
      "Gateway",
    );
    const policy = JSON.parse(sqs.policy) as PolicyDocument;
    expect(new Set(policy.Statement.flatMap((st) => st.Resource))).toEqual(
      new Set(queueKeys.map((k) => arnOfQueue(queueNamesFor(PREFIX, k).name))),
    );
    const ingress = p.ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").map((r) => r.inputs);
    const taskSgId = p.one("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "gateway-task-in-alb").inputs
      .securityGroupId;
    const toEndpoint = ingress.filter((r) => sqs.securityGroupIds.includes(r.securityGroupId));
    expect(toEndpoint).toEqual([
      expect.objectContaining({ ipProtocol: "tcp", fromPort: 443, toPort: 443, referencedSecurityGroupId: taskSgId }),
    ]);
    for (const r of toEndpoint) expect(r.cidrIpv4 ?? r.cidrIpv6).toBeUndefined();
  });
});

describe("no certificate and plain HTTP not allowed", () => {
  test("the program stops before creating anything, naming both keys", async () => {
    await expect(loadProgram({ allowInsecureHttp: "false" })).rejects.toThrow(
      /parley:certificateArn.*parley:allowInsecureHttp/,
    );
  });
});
