/**
 * `tsx bench/sdk-cost.ts [calls]` — what one AWS SDK call costs on this machine, client side (the calling
 * process) and server side (the emulator process): the unit the hot path's CPU budget is spent in. Runs
 * sequential calls against fresh emulators and reads CPU from process.cpuUsage() and /proc.
 */
import { SendMessageCommand, DeleteMessageBatchCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { Agent } from "node:http";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { LOCAL_CREDENTIALS, loadAwsConfig, loadTableNames, type AwsConfig } from "../runtime/contracts";
import { createDynamoClient, createSqsClient } from "../runtime/aws/clients";
import { startLocalStack } from "../runtime/local/stack";
import { cpuSeconds } from "./metrics";
import { nowMs } from "./load";

export interface CallCost {
  readonly call: string;
  readonly calls: number;
  readonly clientCpuMsPerCall: number;
  readonly emulatorCpuMsPerCall: number;
  readonly wallMsPerCall: number;
}

const selfCpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

async function measure(call: string, calls: number, emulatorPid: number, fn: (i: number) => Promise<unknown>) {
  for (let i = 0; i < 50; i++) await fn(-1 - i); // warm-up: JIT, sockets
  const c0 = selfCpu();
  const e0 = cpuSeconds(emulatorPid);
  const t0 = nowMs();
  for (let i = 0; i < calls; i++) await fn(i);
  const wall = nowMs() - t0;
  return {
    call,
    calls,
    clientCpuMsPerCall: ((selfCpu() - c0) * 1000) / calls,
    emulatorCpuMsPerCall: ((cpuSeconds(emulatorPid) - e0) * 1000) / calls,
    wallMsPerCall: wall / calls,
  } satisfies CallCost;
}

function ddbRawConfig(aws: AwsConfig) {
  return {
    region: aws.region,
    endpoint: aws.dynamodbEndpoint,
    credentials: LOCAL_CREDENTIALS,
    requestHandler: new NodeHttpHandler({ httpAgent: new Agent({ keepAlive: true }) }),
  };
}

export async function measureSdkCosts(calls: number): Promise<CallCost[]> {
  const stack = await startLocalStack({ gateways: 0, inMemory: true, persister: false });
  try {
    const aws = loadAwsConfig(stack.env);
    const tables = loadTableNames(stack.env);
    const ddb = createDynamoClient(aws);
    const sqs = createSqsClient(aws);
    // The standard (non-FIFO) notification queue: FIFO group locking in fauxqs would serialize the loop.
    const queueUrl = stack.provisioned.queueUrls.notify;
    const dynalite = stack.emulators.dynamodb.process.pid!;
    const fauxqs = stack.emulators.sqs.process.pid!;
    const out: CallCost[] = [];
    out.push(
      await measure("DynamoDB PutItem (document client)", calls, dynalite, (i) =>
        ddb.send(new PutCommand({ TableName: tables.dedupe, Item: { dedupeKey: `cost-${i}`, seq: i, expiresAt: 1 } })),
      ),
    );
    out.push(
      await measure("DynamoDB GetItem (document client)", calls, dynalite, (i) =>
        ddb.send(new GetCommand({ TableName: tables.dedupe, Key: { dedupeKey: `cost-${i}` } })),
      ),
    );
    const raw = new DynamoDBClient(ddbRawConfig(aws));
    out.push(
      await measure("DynamoDB GetItem (plain client, no document marshalling)", calls, dynalite, (i) =>
        raw.send(new GetItemCommand({ TableName: tables.dedupe, Key: { dedupeKey: { S: `cost-${i}` } } })),
      ),
    );
    raw.destroy();
    out.push(
      await measure("SQS SendMessage", calls, fauxqs, (i) =>
        sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: `cost ${i}` })),
      ),
    );
    out.push(
      await measure("SQS ReceiveMessage (10) + DeleteMessageBatch", Math.floor(calls / 10), fauxqs, async () => {
        const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }));
        if (r.Messages?.length) {
          await sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: queueUrl,
              Entries: r.Messages.map((m, k) => ({ Id: String(k), ReceiptHandle: m.ReceiptHandle! })),
            }),
          );
        }
      }),
    );
    ddb.destroy();
    sqs.destroy();
    return out;
  } finally {
    await stack.stop();
  }
}

if (require.main === module) {
  const calls = Number(process.argv[2] ?? 1000);
  measureSdkCosts(calls).then(
    (rows) => {
      console.log("| call | calls | client CPU ms/call | emulator CPU ms/call | wall ms/call |");
      console.log("|---|---|---|---|---|");
      for (const r of rows) {
        console.log(
          `| ${r.call} | ${r.calls} | ${r.clientCpuMsPerCall.toFixed(3)} | ${r.emulatorCpuMsPerCall.toFixed(3)} | ${r.wallMsPerCall.toFixed(3)} |`,
        );
      }
      process.exit(0);
    },
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
