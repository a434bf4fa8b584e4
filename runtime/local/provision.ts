/**
 * Creates the tables and queues from the contracts, idempotently — the same definitions the Pulumi
 * components deploy — and returns the env a Parley process needs to reach them.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  type CreateTableCommandInput,
} from "@aws-sdk/client-dynamodb";
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";
import {
  env,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  localClientConfig,
  keyAttributesOf,
  queueKeys,
  queueNamesFor,
  queues,
  tableKeys,
  tableNamesFor,
  tables,
  type QueueKey,
  type TableDefinition,
  type TableNames,
} from "../contracts";
import { createSqsClient } from "../aws/clients";
import { emulatorAws, type Emulators } from "./emulators";

export interface Provisioned {
  readonly tableNames: TableNames;
  readonly queueUrls: Record<QueueKey, string>;
  readonly dlqUrls: Record<QueueKey, string>;
}

export function createTableInput(name: string, def: TableDefinition): CreateTableCommandInput {
  const keySchema = (pk: { name: string }, sk?: { name: string }) => [
    { AttributeName: pk.name, KeyType: "HASH" as const },
    ...(sk ? [{ AttributeName: sk.name, KeyType: "RANGE" as const }] : []),
  ];
  return {
    TableName: name,
    BillingMode: "PAY_PER_REQUEST",
    AttributeDefinitions: keyAttributesOf(def).map((a) => ({ AttributeName: a.name, AttributeType: a.type })),
    KeySchema: keySchema(def.partitionKey, def.sortKey),
    ...(def.indexes.length
      ? {
          GlobalSecondaryIndexes: def.indexes.map((gsi) => ({
            IndexName: gsi.name,
            KeySchema: keySchema(gsi.partitionKey, gsi.sortKey),
            Projection: gsi.nonKeyAttributes
              ? { ProjectionType: "INCLUDE" as const, NonKeyAttributes: [...gsi.nonKeyAttributes] }
              : { ProjectionType: "ALL" as const },
          })),
        }
      : {}),
  };
}

async function ensureTable(ddb: DynamoDBClient, name: string, def: TableDefinition): Promise<void> {
  try {
    await ddb.send(new CreateTableCommand(createTableInput(name, def)));
  } catch (err) {
    if (!(err instanceof ResourceInUseException)) throw err;
  }
  await untilTableActive(ddb, name);
}

/**
 * Waits until a created table is ACTIVE: writes to a CREATING table fail with ResourceNotFoundException, in AWS
 * and in the emulators (dynalite flips the status asynchronously even with --createTableMs 0).
 */
export async function untilTableActive(ddb: DynamoDBClient, name: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const d = await ddb.send(new DescribeTableCommand({ TableName: name }));
    if (d.Table?.TableStatus === "ACTIVE") return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`table ${name} did not become ACTIVE`);
}

async function ensureQueue(
  sqs: SQSClient,
  name: string,
  attributes: Record<string, string>,
): Promise<{ url: string; arn: string }> {
  const created = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  const url = created.QueueUrl!;
  const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }));
  return { url, arn: attrs.Attributes!.QueueArn! };
}

export interface ProvisionOptions {
  /** Overrides for tests (e.g. a short visibility timeout so retries happen in seconds). */
  readonly visibilityTimeoutSeconds?: Partial<Record<QueueKey, number>>;
}

export async function provision(
  clients: { dynamodb: DynamoDBClient; sqs: SQSClient },
  prefix: string,
  opts: ProvisionOptions = {},
): Promise<Provisioned> {
  const tableNames = tableNamesFor(prefix);
  await Promise.all(tableKeys.map((k) => ensureTable(clients.dynamodb, tableNames[k], tables[k])));
  const queueUrls = {} as Record<QueueKey, string>;
  const dlqUrls = {} as Record<QueueKey, string>;
  for (const key of queueKeys) {
    const q = queues[key];
    const names = queueNamesFor(prefix, key);
    const fifo: Record<string, string> = q.fifo ? { FifoQueue: "true" } : {};
    const dlq = await ensureQueue(clients.sqs, names.dlqName, {
      ...fifo,
      MessageRetentionPeriod: String(q.dlqRetentionSeconds),
    });
    const main = await ensureQueue(clients.sqs, names.name, {
      ...fifo,
      VisibilityTimeout: String(opts.visibilityTimeoutSeconds?.[key] ?? q.visibilityTimeoutSeconds),
      MessageRetentionPeriod: String(q.messageRetentionSeconds),
      ReceiveMessageWaitTimeSeconds: "0",
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: q.maxReceiveCount }),
    });
    queueUrls[key] = main.url;
    dlqUrls[key] = dlq.url;
  }
  return { tableNames, queueUrls, dlqUrls };
}

/** `provision` against running emulators, with SDK clients made for the call and closed after it. */
export async function provisionEmulators(
  emulators: Emulators,
  prefix: string,
  opts: ProvisionOptions = {},
): Promise<Provisioned> {
  const dynamodb = new DynamoDBClient(localClientConfig(emulators.dynamodb.endpoint));
  const sqs = createSqsClient(emulatorAws(emulators));
  try {
    return await provision({ dynamodb, sqs }, prefix, opts);
  } finally {
    dynamodb.destroy();
    sqs.destroy();
  }
}

/** The env block a local process needs: endpoints, table names and queue URLs, by the contracts' names. */
export function localEnv(p: Provisioned, endpoints: { sqs: string; dynamodb: string }): Record<string, string> {
  const out: Record<string, string> = {
    [env.region]: LOCAL_REGION,
    [env.sqsEndpoint]: endpoints.sqs,
    [env.dynamodbEndpoint]: endpoints.dynamodb,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
  };
  for (const k of tableKeys) out[tables[k].envVar] = p.tableNames[k];
  for (const k of queueKeys) out[queues[k].envVar] = p.queueUrls[k];
  return out;
}
