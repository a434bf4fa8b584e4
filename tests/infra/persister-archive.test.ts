/**
 * The serialized Lambda runs: take `__index.js` out of the CallbackFunction's code archive as the program
 * produces it under mocks, put it alone in an empty folder (the archive lists no node_modules: the handler
 * is bundled), and invoke its `handler` in a separate Node process with the function's own environment —
 * AWS endpoints mapped to the emulators — on an SQS event built from messages received from the
 * emulator's inbound FIFO queue. The messages must end up in the emulator's messages table.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { ReceiveMessageCommand, SendMessageCommand, SQSClient, type Message } from "@aws-sdk/client-sqs";
import { inboundDeduplicationId } from "../../runtime/aws/dedup-id";
import {
  env,
  inboundMessageSchema,
  LOCAL_REGION,
  localClientConfig,
  notificationSchema,
  persisterEnvVars,
  queues,
  type InboundMessage,
} from "../../runtime/contracts";
import { startEmulators, type Emulators } from "../../runtime/local/emulators";
import { localEnv, provisionEmulators, type Provisioned } from "../../runtime/local/provision";
import { createConversation } from "../../runtime/store/conversations";
import { loadProgram } from "./mocks";
import { timing } from "../support/timing";

// Each loadProgram imports all of @pulumi/aws afresh: 10-60 s of CPU here, several times that under load.
jest.setTimeout(timing.ms(300_000));

const run = promisify(execFile);
const PREFIX = "parley-test";

// The archive as Pulumi would upload it: name → asset (StringAsset text or a FileArchive path).
interface ArchiveLike {
  assets: Promise<Record<string, { text?: Promise<string>; path?: Promise<string> }>>;
}

let emulators: Emulators;
let provisioned: Provisioned;
let folder: string;
let assets: Record<string, { text?: Promise<string>; path?: Promise<string> }>;
let lambdaEnv: Record<string, string>;

beforeAll(async () => {
  const p = await loadProgram({ deletionProtection: "false" });
  const fn = p.one("aws:lambda/function:Function", "persister-function").inputs;
  assets = await (fn.code as ArchiveLike).assets;
  lambdaEnv = fn.environment.variables;
  emulators = await startEmulators();
  provisioned = await provisionEmulators(emulators, PREFIX);
  folder = mkdtempSync(path.join(tmpdir(), "parley-lambda-"));
});

afterAll(async () => {
  await emulators?.stop();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

test("the archive is __index.js alone: no local files, no node_modules", async () => {
  expect(Object.keys(assets)).toEqual(["__index.js"]);
  const text = await assets["__index.js"]!.text!;
  expect(text).toContain("exports.handler");
  // The pitfall this guards against: a factory that requires repo files, which Lambda does not have.
  expect(text).not.toMatch(/require\(["']\.{1,2}\/(runtime|components)/);
});

test("the serialized handler stores inbound messages in the messages table and notifies", async () => {
  const endpoints = { sqs: emulators.sqs.endpoint, dynamodb: emulators.dynamodb.endpoint };
  const local = localEnv(provisioned, endpoints);
  const sqs = new SQSClient(localClientConfig(endpoints.sqs));
  const ddb = DynamoDBDocumentClient.from(new DynamoDBClient(localClientConfig(endpoints.dynamodb)));

  // The function's environment, exactly the names the component declared; values for this emulator.
  expect(Object.keys(lambdaEnv).sort()).toEqual([...new Set([...persisterEnvVars, env.editWindowSeconds])].sort());
  const childEnv: Record<string, string> = { PATH: process.env.PATH ?? "", NODE_NO_WARNINGS: "1" };
  // A setting, not a resource: the same on the emulators as in AWS.
  childEnv[env.editWindowSeconds] = lambdaEnv[env.editWindowSeconds]!;
  for (const name of Object.keys(lambdaEnv).filter((n) => n !== env.editWindowSeconds)) {
    // Table names already match (same prefix); queue URLs point at AWS and are mapped to the emulator.
    const queueUrl = name === queues.notify.envVar || name === queues.inbound.envVar;
    childEnv[name] = queueUrl ? local[name]! : lambdaEnv[name]!;
    expect(childEnv[name]).toBe(local[name]);
  }
  // What Lambda itself provides, plus the emulator endpoints (the only non-Lambda settings).
  for (const name of [
    env.region,
    env.sqsEndpoint,
    env.dynamodbEndpoint,
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
  ]) {
    childEnv[name] = local[name]!;
  }

  // One message per conversation: a FIFO group hands out nothing more while one of its messages is in flight.
  const conversationIds = [1, 2, 3].map((i) => `g:archive000000000000${i}`);
  for (const conversationId of conversationIds) {
    await createConversation(
      { ddb, tables: provisioned.tableNames },
      {
        conversationId,
        kind: "group",
        title: "archive",
        memberIds: ["alice", "bob"],
        createdBy: "alice",
        createdAt: Date.now(),
      },
    );
  }
  const sent: InboundMessage[] = [1, 2, 3].map((i) =>
    inboundMessageSchema.parse({
      v: 1,
      conversationId: conversationIds[i - 1],
      senderId: i === 2 ? "bob" : "alice",
      clientMessageId: `archive-${i}`,
      body: `hello ${i}`,
      sentAt: Date.now(),
    }),
  );
  for (const m of sent) {
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: provisioned.queueUrls.inbound,
        MessageBody: JSON.stringify(m),
        MessageGroupId: m.conversationId,
        MessageDeduplicationId: inboundDeduplicationId(m),
      }),
    );
  }
  const received: Message[] = [];
  for (let i = 0; i < 10 && received.length < sent.length; i++) {
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: provisioned.queueUrls.inbound,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        MessageSystemAttributeNames: ["All"],
      }),
    );
    received.push(...(out.Messages ?? []));
  }
  expect(received).toHaveLength(sent.length);

  const event = {
    Records: received.map((m) => ({
      messageId: m.MessageId!,
      receiptHandle: m.ReceiptHandle!,
      body: m.Body!,
      attributes: {
        ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? "1",
        SentTimestamp: m.Attributes?.SentTimestamp ?? String(Date.now()),
        MessageGroupId: m.Attributes?.MessageGroupId ?? "",
        MessageDeduplicationId: m.Attributes?.MessageDeduplicationId ?? "",
        SequenceNumber: m.Attributes?.SequenceNumber ?? "",
        SenderId: "AIDAEXAMPLE",
        ApproximateFirstReceiveTimestamp: String(Date.now()),
      },
      messageAttributes: {},
      md5OfBody: m.MD5OfBody ?? "",
      eventSource: "aws:sqs",
      eventSourceARN: `arn:aws:sqs:${LOCAL_REGION}:000000000000:${PREFIX}-inbound.fifo`,
      awsRegion: LOCAL_REGION,
    })),
  };

  // The folder holds what the archive holds: __index.js, plus (linked) any node_modules entry it lists.
  for (const [name, asset] of Object.entries(assets)) {
    if (name === "__index.js") {
      writeFileSync(path.join(folder, name), await asset.text!);
    } else {
      expect(name).toMatch(/^node_modules\//);
      mkdirSync(path.dirname(path.join(folder, name)), { recursive: true });
      symlinkSync(path.resolve(await asset.path!), path.join(folder, name));
    }
  }
  writeFileSync(path.join(folder, "event.json"), JSON.stringify(event));
  expect(
    readdirSync(folder)
      .filter((f) => f !== "node_modules")
      .sort(),
  ).toEqual(["__index.js", "event.json"]);
  // Invoke like the Lambda Node runtime: load the module once, call `handler(event, context)`.
  const invoke = `
    const { handler } = require("./__index.js");
    const event = JSON.parse(require("node:fs").readFileSync("./event.json", "utf8"));
    handler(event, { getRemainingTimeInMillis: () => 30000 }).then(
      (r) => { process.stdout.write(JSON.stringify(r)); },
      (e) => { console.error(e); process.exit(1); });`;
  const { stdout } = await run(process.execPath, ["-e", invoke], { cwd: folder, env: childEnv, timeout: 60_000 });
  expect(JSON.parse(stdout)).toEqual({ batchItemFailures: [] });

  for (const m of sent) {
    const stored = await ddb.send(
      new QueryCommand({
        TableName: provisioned.tableNames.messages,
        KeyConditionExpression: "conversationId = :c",
        ExpressionAttributeValues: { ":c": m.conversationId },
      }),
    );
    expect(stored.Items).toEqual([
      expect.objectContaining({ seq: 1, senderId: m.senderId, clientMessageId: m.clientMessageId, body: m.body }),
    ]);
  }
  // The persister's second job, with the same env: one notification per stored message on the notify queue.
  const notified: string[] = [];
  for (let i = 0; i < 10 && notified.length < sent.length; i++) {
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: provisioned.queueUrls.notify,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
      }),
    );
    for (const m of out.Messages ?? [])
      notified.push(notificationSchema.parse(JSON.parse(m.Body!)).message.clientMessageId);
  }
  expect(notified.sort()).toEqual(sent.map((m) => m.clientMessageId).sort());
});
