/**
 * `tsx bench/sdk-cost.ts [calls]` — what one AWS SDK call costs on this machine, client side (the calling
 * process) and server side (the emulator process): the unit the hot path's CPU budget is spent in. Runs
 * sequential calls against fresh emulators and reads CPU from process.cpuUsage() and /proc.
 */
import { SendMessageCommand, DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { Agent } from "node:http";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { localClientConfig, loadAwsConfig, loadTableNames } from "../runtime/contracts";
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

const ROUNDS = 3;

/** An SDK client's config with the SDK's defaults (no middleware cache), keep-alive like Parley's clients. */
function defaultClientConfig(endpoint: string) {
  return {
    ...localClientConfig(endpoint),
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
    // The SDK's defaults, as a baseline: lib-dynamodb's document client and an SQS client without the middleware
    // cache resolve the whole middleware stack on every call (runtime/aws/clients.ts).
    const libDdb = DynamoDBDocumentClient.from(new DynamoDBClient(defaultClientConfig(aws.dynamodbEndpoint!)), {
      marshallOptions: { removeUndefinedValues: true },
    });
    const raw = new DynamoDBClient(defaultClientConfig(aws.dynamodbEndpoint!));
    const defaultSqs = new SQSClient({ ...defaultClientConfig(aws.sqsEndpoint!), useQueueUrlAsEndpoint: false });
    const polls = createSqsClient(aws, "long polls");
    const put = (client: Pick<typeof ddb, "send">) => (i: number) =>
      client.send(new PutCommand({ TableName: tables.dedupe, Item: { dedupeKey: `cost-${i}`, seq: i, expiresAt: 1 } }));
    const get = (client: Pick<typeof ddb, "send">) => (i: number) =>
      client.send(new GetCommand({ TableName: tables.dedupe, Key: { dedupeKey: `cost-${i}` } }));
    const send = (client: SQSClient) => (i: number) =>
      client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: `cost ${i}` }));
    const receiveAndDelete = async () => {
      const r = await polls.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }));
      if (r.Messages?.length) {
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: r.Messages.map((m, k) => ({ Id: String(k), ReceiptHandle: m.ReceiptHandle! })),
          }),
        );
      }
    };
    const cases: [string, number, number, (i: number) => Promise<unknown>][] = [
      ["DynamoDB PutItem, lib-dynamodb document client (SDK default)", calls, dynalite, put(libDdb)],
      ["DynamoDB PutItem, Parley's document client (createDynamoClient)", calls, dynalite, put(ddb)],
      ["DynamoDB GetItem, lib-dynamodb document client (SDK default)", calls, dynalite, get(libDdb)],
      ["DynamoDB GetItem, Parley's document client (createDynamoClient)", calls, dynalite, get(ddb)],
      [
        "DynamoDB GetItem, plain client (SDK default, no marshalling)",
        calls,
        dynalite,
        (i) => raw.send(new GetItemCommand({ TableName: tables.dedupe, Key: { dedupeKey: { S: `cost-${i}` } } })),
      ],
      ["SQS SendMessage (SDK default)", calls, fauxqs, send(defaultSqs)],
      ["SQS SendMessage (createSqsClient)", calls, fauxqs, send(sqs)],
      [
        "SQS ReceiveMessage (10, long-poll client) + DeleteMessageBatch (createSqsClient)",
        Math.floor(calls / 10),
        fauxqs,
        receiveAndDelete,
      ],
    ];
    // Rounds interleave the cases, so JIT warm-up and machine noise fall on all of them alike; the median is kept.
    const rounds: CallCost[][] = cases.map(() => []);
    for (let r = 0; r < ROUNDS; r++) {
      for (const [k, [name, n, pid, fn]] of cases.entries()) rounds[k]!.push(await measure(name, n, pid, fn));
    }
    const out = rounds.map(
      (rs) => [...rs].sort((x, y) => x.clientCpuMsPerCall - y.clientCpuMsPerCall)[rs.length >> 1]!,
    );
    for (const c of [raw, libDdb, defaultSqs, polls]) c.destroy();
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
