/**
 * IAM for the components: policy documents that name exact ARNs (each role's table access traced from the
 * store calls it makes), role names, and the checks the tests and the policy pack run on every recorded policy
 * (wildcards on data, supported Lambda runtimes). No Pulumi resources here, so the unit tests need no mocks.
 */
import type { TableKey, tables } from "../runtime/contracts";
import type { GatewayTableKey, PersisterTableKey } from "./types";

export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: "Allow" | "Deny";
  /** Only in resource policies (e.g. a VPC endpoint's); identity policies have none. */
  readonly Principal?: "*";
  readonly Action: readonly string[];
  readonly Resource: readonly string[];
}

export interface PolicyDocument {
  readonly Version: "2012-10-17";
  readonly Statement: readonly PolicyStatement[];
}

/**
 * The DynamoDB item actions the runtime issues. No Scan, no table-level actions, no transactions (the store
 * uses none), so neither TransactGetItems nor TransactWriteItems (authorised through these) nor ConditionCheckItem.
 */
export type DynamoItemAction =
  "GetItem" | "BatchGetItem" | "Query" | "PutItem" | "UpdateItem" | "DeleteItem" | "BatchWriteItem";

type IndexOf<K extends TableKey> = (typeof tables)[K]["indexes"][number]["name"];

/** What one role does to one table: item actions on the table, and Query on exactly the indexes it reads. */
export interface TableAccess<I extends string = string> {
  readonly actions: readonly DynamoItemAction[];
  readonly queryIndexes?: readonly I[];
}

export type TableAccessMap<K extends TableKey> = { readonly [T in K]: TableAccess<IndexOf<T>> };

/**
 * The gateway task's table access, traced from the store calls runtime/gateway makes (runtime/store function in
 * the comment). It reads message history but never writes messages: the persister alone stores them.
 */
export const gatewayTableAccess = {
  // createUser, getUser, recordLastSeen; searchUsers on byDirectory.
  users: { actions: ["GetItem", "PutItem", "UpdateItem"], queryIndexes: ["byDirectory"] },
  // putUserNames (via createUser); searchUserNames, browseUserNames (Query on the table).
  userNames: { actions: ["Query", "BatchWriteItem"] },
  // getConversation, getConversations, createConversation.
  conversations: { actions: ["GetItem", "BatchGetItem", "PutItem"] },
  // listMemberships (Query on the table), advanceLastRead, putMembershipIfAbsent (via createConversation),
  // readPositions (history).
  memberships: { actions: ["Query", "BatchGetItem", "PutItem", "UpdateItem"] },
  // pageMessages and withReplyPreviews (quoted messages outside the page); getMessage (an edit's target).
  messages: { actions: ["Query", "GetItem", "BatchGetItem"] },
  // putConnection, putGateway, touchConnection, getConnections, listGateways, deleteConnection(s),
  // deleteGateway(IfExpired); listConnectionsByUser on byUser, listConnectionsByGateway on byGateway.
  connections: {
    actions: ["BatchGetItem", "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"],
    queryIndexes: ["byUser", "byGateway"],
  },
  // loginRetryAfter, recordLoginFailure, clearLoginFailures, revokeToken, isTokenRevoked.
  auth: { actions: ["GetItem", "PutItem", "UpdateItem", "DeleteItem"] },
} as const satisfies TableAccessMap<GatewayTableKey>;

/** The persister's table access, traced from runtime/persister (store-message.ts, persist-batch.ts). */
export const persisterTableAccess = {
  // getConversation (membership check), recordSummary, reviseConversation (membership and title entries).
  conversations: { actions: ["GetItem", "UpdateItem"] },
  // latestMessage (Query on the table), getMessage, putMessageIfSlotFree, reviseMessage and eraseEditBodies
  // (edits, deletes, reactions), deleteMessageIfOwned.
  messages: { actions: ["GetItem", "Query", "PutItem", "UpdateItem", "DeleteItem"] },
  // findDedupe, claimDedupe, moveDedupe.
  dedupe: { actions: ["GetItem", "PutItem", "UpdateItem"] },
  // putMembershipIfAbsent (an added member), deleteMembership (a removed or leaving one).
  memberships: { actions: ["PutItem", "DeleteItem"] },
} as const satisfies TableAccessMap<PersisterTableKey>;

/** What Lambda's SQS event source mapping needs on its source queue, plus the persister's own visibility changes. */
export const sqsConsumeActions = [
  "sqs:ReceiveMessage",
  "sqs:DeleteMessage",
  "sqs:ChangeMessageVisibility",
  "sqs:GetQueueAttributes",
] as const;

/** The gateway's notify poller: receive and delete (DeleteMessageBatch is authorised through DeleteMessage). */
export const sqsPollActions = ["sqs:ReceiveMessage", "sqs:DeleteMessage"] as const;

/** SendMessageBatch is authorised through SendMessage. */
export const sqsSendActions = ["sqs:SendMessage"] as const;

const capitalized = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/**
 * One statement per table (its item actions on the table ARN) and, where the role queries indexes, one with
 * Query on exactly those index ARNs. Throws unless `tableArns` names exactly the tables of `access`.
 */
export function tableStatements<K extends TableKey>(
  access: TableAccessMap<K>,
  tableArns: Readonly<Record<K, string>>,
): PolicyStatement[] {
  const keys = Object.keys(access) as K[];
  const given = Object.keys(tableArns).sort();
  if (given.join() !== [...keys].sort().join()) {
    throw new Error(`tableArns must name exactly ${[...keys].sort().join(", ")}, got ${given.join(", ")}`);
  }
  return keys.flatMap((key) => {
    const arn = tableArns[key];
    const { actions, queryIndexes = [] } = access[key] as TableAccess;
    const items: PolicyStatement = {
      Sid: `${capitalized(key)}Items`,
      Effect: "Allow",
      Action: actions.map((a) => `dynamodb:${a}`),
      Resource: [arn],
    };
    if (queryIndexes.length === 0) return [items];
    const indexes: PolicyStatement = {
      Sid: `${capitalized(key)}Indexes`,
      Effect: "Allow",
      Action: ["dynamodb:Query"],
      Resource: queryIndexes.map((i) => `${arn}/index/${i}`),
    };
    return [items, indexes];
  });
}

export interface PersisterPolicyArgs {
  readonly inboundQueueArn: string;
  readonly notifyQueueArn: string;
  readonly tableArns: Readonly<Record<PersisterTableKey, string>>;
  readonly logGroupArn: string;
}

/** An identity policy of these statements. */
function policyDocument(statements: readonly PolicyStatement[]): PolicyDocument {
  return { Version: "2012-10-17", Statement: statements };
}

/** Allow `actions` on exactly one resource. */
function allowOn(sid: string, actions: readonly string[], resource: string): PolicyStatement {
  return { Sid: sid, Effect: "Allow", Action: [...actions], Resource: [resource] };
}

/** The persister's own policy: consume inbound, publish notify, its table access, its log group. */
export function persisterPolicyDocument(a: PersisterPolicyArgs): PolicyDocument {
  return policyDocument([
    allowOn("ConsumeInbound", sqsConsumeActions, a.inboundQueueArn),
    allowOn("PublishNotify", sqsSendActions, a.notifyQueueArn),
    ...tableStatements(persisterTableAccess, a.tableArns),
    allowOn("Logs", ["logs:CreateLogStream", "logs:PutLogEvents"], `${a.logGroupArn}:*`),
  ]);
}

export interface GatewayPolicyArgs {
  readonly inboundQueueArn: string;
  readonly notifyQueueArn: string;
  readonly tableArns: Readonly<Record<GatewayTableKey, string>>;
}

/** The gateway task role: enqueue inbound, poll notify, its table access. */
export function gatewayTaskPolicyDocument(a: GatewayPolicyArgs): PolicyDocument {
  return policyDocument([
    allowOn("EnqueueInbound", sqsSendActions, a.inboundQueueArn),
    allowOn("PollNotify", sqsPollActions, a.notifyQueueArn),
    ...tableStatements(gatewayTableAccess, a.tableArns),
  ]);
}

/**
 * A VPC endpoint policy from an identity policy: its statements on one service, for any principal (IAM still
 * decides who). Through the endpoint, then, only this stack's tables or queues are reachable, in no other account.
 */
export function endpointPolicyDocument(doc: PolicyDocument, service: "dynamodb" | "sqs"): PolicyDocument {
  const statements = doc.Statement.filter((s) => s.Action.every((a) => a.startsWith(`${service}:`)));
  if (statements.length === 0) throw new Error(`the policy has no ${service} statements for an endpoint policy`);
  return { Version: "2012-10-17", Statement: statements.map((s) => ({ ...s, Principal: "*" as const })) };
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
/** Actions of those services that touch no data and support no resource-level permission: `*` is their only form. */
const RESOURCELESS_ACTIONS = new Set(["secretsmanager:GetRandomPassword", "secretsmanager:ListSecrets"]);

/**
 * Statements granting data actions (SQS, DynamoDB, Secrets Manager, SSM, KMS, S3) on a wildcard resource —
 * what least privilege forbids. Used by the tests on every recorded policy and by the policy pack (policy/).
 */
export function wildcardDataStatements(doc: PolicyDocument): PolicyStatement[] {
  return doc.Statement.filter(
    (s) =>
      s.Effect === "Allow" &&
      s.Action.some((a) => a === "*" || (new RegExp(`^(${DATA_SERVICES}):`).test(a) && !RESOURCELESS_ACTIONS.has(a))) &&
      s.Resource.some(
        (r) =>
          r === "*" ||
          new RegExp(`:(${DATA_SERVICES}):[^:]*:[^:]*:\\*?$`).test(r) ||
          /:(table\/|secret:|parameter\/)\*$/.test(r),
      ),
  );
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
