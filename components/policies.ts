/**
 * Pure helpers the components share: IAM policy documents that name exact ARNs, the DynamoDB table
 * shape derived from the contracts, and small derivations. No Pulumi resources here, so the unit
 * tests need no mocks.
 */
import type * as pulumi from "@pulumi/pulumi";
import { keyAttributesOf, type TableDefinition } from "../runtime/contracts";

export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: "Allow" | "Deny";
  readonly Action: readonly string[];
  readonly Resource: readonly string[];
}

export interface PolicyDocument {
  readonly Version: "2012-10-17";
  readonly Statement: readonly PolicyStatement[];
}

/** Item-level reads; TransactGetItems is authorised through GetItem. */
export const dynamoReadActions = [
  "dynamodb:GetItem",
  "dynamodb:BatchGetItem",
  "dynamodb:Query",
  "dynamodb:ConditionCheckItem",
] as const;

/** Item-level writes; TransactWriteItems is authorised through these. No table-level or Scan actions. */
export const dynamoWriteActions = [
  "dynamodb:PutItem",
  "dynamodb:UpdateItem",
  "dynamodb:DeleteItem",
  "dynamodb:BatchWriteItem",
] as const;

/** What Lambda's SQS event source mapping needs on its source queue. */
export const sqsConsumeActions = [
  "sqs:ReceiveMessage",
  "sqs:DeleteMessage",
  "sqs:ChangeMessageVisibility",
  "sqs:GetQueueAttributes",
] as const;

export const sqsSendActions = ["sqs:SendMessage", "sqs:GetQueueAttributes"] as const;

/** The table ARN, plus its indexes only when the contract defines GSIs (Query on an index needs them). */
export function tableResourceArns(tableArn: string, def: Pick<TableDefinition, "indexes">): string[] {
  return def.indexes.length > 0 ? [tableArn, `${tableArn}/index/*`] : [tableArn];
}

export interface TableGrant {
  readonly arn: string;
  readonly def: Pick<TableDefinition, "indexes">;
}

function tableStatement(sid: string, grants: readonly TableGrant[]): PolicyStatement {
  return {
    Sid: sid,
    Effect: "Allow",
    Action: [...dynamoReadActions, ...dynamoWriteActions],
    Resource: grants.flatMap((g) => tableResourceArns(g.arn, g.def)),
  };
}

export interface PersisterPolicyArgs {
  readonly inboundQueueArn: string;
  readonly notifyQueueArn: string;
  /** Exactly the contracts' `persisterTables`. */
  readonly tables: readonly TableGrant[];
  readonly logGroupArn: string;
}

/** The persister's own policy: consume inbound, publish notify, items of its three tables, its log group. */
export function persisterPolicyDocument(a: PersisterPolicyArgs): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "ConsumeInbound", Effect: "Allow", Action: [...sqsConsumeActions], Resource: [a.inboundQueueArn] },
      { Sid: "PublishNotify", Effect: "Allow", Action: [...sqsSendActions], Resource: [a.notifyQueueArn] },
      tableStatement("Tables", a.tables),
      {
        Sid: "Logs",
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: [`${a.logGroupArn}:*`],
      },
    ],
  };
}

export interface GatewayPolicyArgs {
  readonly inboundQueueArn: string;
  readonly notifyQueueArn: string;
  /** Exactly the contracts' `gatewayTables`. */
  readonly tables: readonly TableGrant[];
}

/** The gateway task role: enqueue inbound, consume notify, items of its tables. */
export function gatewayTaskPolicyDocument(a: GatewayPolicyArgs): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "EnqueueInbound", Effect: "Allow", Action: [...sqsSendActions], Resource: [a.inboundQueueArn] },
      { Sid: "ConsumeNotify", Effect: "Allow", Action: [...sqsConsumeActions], Resource: [a.notifyQueueArn] },
      tableStatement("Tables", a.tables),
    ],
  };
}

/**
 * What the ECS agent needs to inject the container's `secrets`: read exactly these secrets or
 * parameters. (Secrets under a customer-managed KMS key also need kms:Decrypt on that key.)
 */
export function secretsReadPolicyDocument(secretArns: readonly string[]): PolicyDocument {
  const sm = secretArns.filter((a) => a.includes(":secretsmanager:"));
  const ssm = secretArns.filter((a) => a.includes(":ssm:"));
  const other = secretArns.filter((a) => !sm.includes(a) && !ssm.includes(a));
  if (other.length)
    throw new Error(`secretArns must be Secrets Manager or SSM parameter ARNs, got ${other.join(", ")}`);
  const statements: PolicyStatement[] = [];
  if (sm.length)
    statements.push({ Sid: "ReadSecrets", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: sm });
  if (ssm.length)
    statements.push({ Sid: "ReadParameters", Effect: "Allow", Action: ["ssm:GetParameters"], Resource: ssm });
  return { Version: "2012-10-17", Statement: statements };
}

/** IAM's limit on a role name. */
export const IAM_ROLE_NAME_MAX = 64;

/**
 * A role's physical name. IAM is account-global, so the region is part of it: the same prefix deployed to a
 * second region would otherwise fail with `EntityAlreadyExists`.
 */
export function iamRoleName(namePrefix: string, purpose: string, region: string): string {
  const name = `${namePrefix}-${purpose}-${region}`;
  if (name.length > IAM_ROLE_NAME_MAX) {
    throw new Error(`IAM role name "${name}" is longer than ${IAM_ROLE_NAME_MAX} characters`);
  }
  return name;
}

export function assumeRolePolicyDocument(service: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }],
  });
}

/** Services whose actions read or write the program's data (messages, users, secrets, keys). */
const DATA_SERVICES = "sqs|dynamodb|secretsmanager|ssm|kms|s3";

/**
 * Statements granting data actions (SQS, DynamoDB, Secrets Manager, SSM, KMS, S3) on a wildcard resource —
 * what least privilege forbids. Used by the tests on every recorded policy and by the policy pack (policy/).
 */
export function wildcardDataStatements(doc: PolicyDocument): PolicyStatement[] {
  return doc.Statement.filter(
    (s) =>
      s.Effect === "Allow" &&
      s.Action.some((a) => a === "*" || new RegExp(`^(${DATA_SERVICES}):`).test(a)) &&
      s.Resource.some(
        (r) =>
          r === "*" ||
          new RegExp(`:(${DATA_SERVICES}):[^:]*:[^:]*:\\*?$`).test(r) ||
          /:(table\/|secret:|parameter\/)\*$/.test(r),
      ),
  );
}

/** aws.dynamodb.Table arguments derived from a contract, mirroring runtime/local/provision.ts. */
export interface TableShape {
  readonly attributes: { name: string; type: string }[];
  readonly hashKey: string;
  readonly rangeKey?: string;
  readonly globalSecondaryIndexes?: {
    name: string;
    keySchemas: { attributeName: string; keyType: "HASH" | "RANGE" }[];
    projectionType: "ALL" | "INCLUDE";
    nonKeyAttributes?: string[];
  }[];
  readonly ttl?: { attributeName: string; enabled: true };
}

export function tableShape(def: TableDefinition): TableShape {
  return {
    attributes: keyAttributesOf(def),
    hashKey: def.partitionKey.name,
    ...(def.sortKey ? { rangeKey: def.sortKey.name } : {}),
    ...(def.indexes.length
      ? {
          globalSecondaryIndexes: def.indexes.map((gsi) => ({
            name: gsi.name,
            keySchemas: [
              { attributeName: gsi.partitionKey.name, keyType: "HASH" as const },
              ...(gsi.sortKey ? [{ attributeName: gsi.sortKey.name, keyType: "RANGE" as const }] : []),
            ],
            ...(gsi.nonKeyAttributes
              ? { projectionType: "INCLUDE" as const, nonKeyAttributes: [...gsi.nonKeyAttributes] }
              : { projectionType: "ALL" as const }),
          })),
        }
      : {}),
    ...(def.ttlAttribute ? { ttl: { attributeName: def.ttlAttribute, enabled: true as const } } : {}),
  };
}

/** Lambda runtimes this program accepts: Node.js 22 or newer (older ones are deprecated; Lambda.2). */
export function isSupportedNodeRuntime(runtime: string): boolean {
  const m = /^nodejs(\d+)\.x$/.exec(runtime);
  return m !== null && Number(m[1]) >= 22;
}

/** Lambda's advice for SQS sources: visibility timeout at least six times the function timeout. */
export function visibilityCoversRetries(visibilityTimeoutSeconds: number, functionTimeoutSeconds: number): boolean {
  return visibilityTimeoutSeconds >= 6 * functionTimeoutSeconds;
}

/** Application Auto Scaling's id for an ECS service. */
export function ecsServiceResourceId(clusterName: string, serviceName: string): string {
  return `service/${clusterName}/${serviceName}`;
}

/** ALBRequestCountPerTarget's resource label: `<lb arn suffix>/<target group arn suffix>`. */
export function albRequestCountLabel(loadBalancerArnSuffix: string, targetGroupArnSuffix: string): string {
  return `${loadBalancerArnSuffix}/${targetGroupArnSuffix}`;
}

/**
 * A `transforms` entry for the awsx FargateService: once autoscaling owns the service's desired count,
 * `pulumi up` must not reset it (that would scale a loaded fleet back). The service itself is a child of the
 * remote component, which component options never reach; transforms do.
 */
export function ignoreAutoscaledDesiredCount(
  args: pulumi.ResourceTransformArgs,
): pulumi.ResourceTransformResult | undefined {
  if (args.type !== "aws:ecs/service:Service") return undefined;
  return {
    props: args.props,
    opts: { ...args.opts, ignoreChanges: [...(args.opts.ignoreChanges ?? []), "desiredCount"] },
  };
}
