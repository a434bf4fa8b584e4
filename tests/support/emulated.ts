/** Test support: real emulators + provisioned tables/queues, and clients pointed at them. */
import { randomBytes } from "node:crypto";
import {
  PurgeQueueCommand,
  ReceiveMessageCommand,
  DeleteMessageBatchCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { createDynamoClient, createSqsClient } from "../../runtime/aws/clients";
import { emulatorAws, startEmulators, type Emulators } from "../../runtime/local/emulators";
import { provisionEmulators, type Provisioned } from "../../runtime/local/provision";
import type { AwsConfig, TableNames } from "../../runtime/contracts";
import type { Db } from "../../runtime/store/db";
import { sleep } from "./timing";
import { type DocumentClient } from "../../runtime/aws/document-client";

export interface Emulated {
  readonly emulators: Emulators;
  readonly aws: AwsConfig;
  readonly provisioned: Provisioned;
  readonly ddb: DocumentClient;
  readonly sqs: SQSClient;
  readonly db: Db;
  close(): Promise<void>;
}

export interface AwsClients {
  readonly ddb: DocumentClient;
  readonly sqs: SQSClient;
  /** The store's view: the DynamoDB client and the tables by name. */
  readonly db: Db;
  /** Destroys both clients. */
  destroy(): void;
}

/** SDK clients pointed at the emulators of `aws` (an Emulated's, a LocalStack's). */
export function awsClients(aws: AwsConfig, tables: TableNames): AwsClients {
  const ddb = createDynamoClient(aws);
  const sqs = createSqsClient(aws);
  return {
    ddb,
    sqs,
    db: { ddb, tables },
    destroy: () => {
      ddb.destroy();
      sqs.destroy();
    },
  };
}

export async function startEmulated(prefix = `t${randomBytes(3).toString("hex")}`): Promise<Emulated> {
  const emulators = await startEmulators();
  const aws = emulatorAws(emulators);
  const provisioned = await provisionEmulators(emulators, prefix, { visibilityTimeoutSeconds: { inbound: 2 } });
  const { ddb, sqs, db, destroy } = awsClients(aws, provisioned.tableNames);
  return {
    emulators,
    aws,
    provisioned,
    ddb,
    sqs,
    db,
    close: async () => {
      destroy();
      await emulators.stop();
    },
  };
}

/** Receives (and deletes) everything currently on a queue. */
export async function drainQueue(sqs: SQSClient, queueUrl: string, idleRounds = 2): Promise<string[]> {
  const bodies: string[] = [];
  let idle = 0;
  while (idle < idleRounds) {
    const out = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    const msgs = out.Messages ?? [];
    if (!msgs.length) {
      idle++;
      await sleep(50);
      continue;
    }
    idle = 0;
    bodies.push(...msgs.map((m) => m.Body ?? ""));
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: msgs.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
      }),
    );
  }
  return bodies;
}

export async function purge(sqs: SQSClient, queueUrl: string): Promise<void> {
  await sqs.send(new PurgeQueueCommand({ QueueUrl: queueUrl }));
}
