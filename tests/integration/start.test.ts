/**
 * `npm start` as a newcomer runs it: prints its endpoints, keeps stored messages across a restart and stops
 * cleanly on Ctrl-C (SIGINT).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { GetQueueUrlCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { createDynamoClient, createSqsClient } from "../../runtime/aws/clients";
import { inboundDeduplicationId } from "../../runtime/aws/dedup-id";
import {
  LOCAL_REGION,
  queueNamesFor,
  tableNamesFor,
  type InboundMessage,
  type StoredMessage,
} from "../../runtime/contracts";
import { freePort } from "../../runtime/local/emulators";
import { LOCAL_PREFIX } from "../../runtime/local/stack";
import { createConversation } from "../../runtime/store/conversations";
import { pageMessages } from "../../runtime/store/messages";
import { sleep } from "../support/timing";

jest.setTimeout(120_000);

const root = path.resolve(__dirname, "../..");
const dataDir = mkdtempSync(path.join(tmpdir(), "parley-start-"));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) process.kill(-c.pid!, "SIGKILL");
  rmSync(dataDir, { recursive: true, force: true });
});

interface Started {
  child: ChildProcess;
  output: () => string;
  sqsEndpoint: string;
  dynamodbEndpoint: string;
}

/**
 * The README's command, with the options it also names for a port and a data folder of the test's own. Never
 * rebuilds web/dist (the browser tests read it meanwhile). Its own process group, as a terminal's job.
 */
async function npmStart(port: number): Promise<Started> {
  const command = `npm start -- --gateways 3 --port ${port} --data ${dataDir} --no-web-build`;
  const child = spawn("bash", ["-c", command], { cwd: root, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const deadline = Date.now() + 60_000;
  while (!/Press Ctrl-C to stop/.test(out)) {
    if (child.exitCode !== null) throw new Error(`npm start exited early:\n${out}`);
    if (Date.now() > deadline) throw new Error(`npm start did not come up:\n${out}`);
    await sleep(100);
  }
  return {
    child,
    output: () => out,
    sqsEndpoint: /SQS \(fauxqs\):\s+(\S+)/.exec(out)![1]!,
    dynamodbEndpoint: /DynamoDB:\s+(\S+)/.exec(out)![1]!,
  };
}

/** Ctrl-C: SIGINT to the whole foreground process group. */
async function ctrlC(s: Started): Promise<number> {
  const t0 = Date.now();
  process.kill(-s.child.pid!, "SIGINT");
  const [code, signal] = await once(s.child, "exit");
  // npm answers a Ctrl-C by ending with it (130, or the signal itself) after its script finished.
  expect(code === 130 || signal === "SIGINT").toBe(true);
  expect(s.output()).toContain("Stopped.");
  return Date.now() - t0;
}

test("starts three gateways, prints its endpoints, keeps stored messages across a restart, exits cleanly on Ctrl-C", async () => {
  const port = await freePort();
  const first = await npmStart(port);
  expect(first.output()).toContain(`Open:            http://localhost:${port}`);
  for (const p of [port, port + 1, port + 2]) {
    expect(first.output()).toMatch(p === port ? /Open:/ : new RegExp(`also gateway:\\s+http://localhost:${p}`));
    expect((await fetch(`http://127.0.0.1:${p}/healthz`)).status).toBe(200);
  }

  // A message through the real pipeline: onto the inbound queue, stored by the persister runner.
  const aws = { region: LOCAL_REGION, sqsEndpoint: first.sqsEndpoint, dynamodbEndpoint: first.dynamodbEndpoint };
  const tables = tableNamesFor(LOCAL_PREFIX);
  const ddb = createDynamoClient(aws);
  const sqs = createSqsClient(aws);
  const conversationId = "g:restartcheck01";
  await createConversation(
    { ddb, tables },
    { conversationId, kind: "group", title: "r", memberIds: ["alice"], createdBy: "alice", createdAt: Date.now() },
  );
  const m: InboundMessage = {
    v: 1,
    conversationId,
    senderId: "alice",
    clientMessageId: "keep-me",
    body: "still here?",
    sentAt: Date.now(),
  };
  const { QueueUrl: queueUrl } = await sqs.send(
    new GetQueueUrlCommand({ QueueName: queueNamesFor(LOCAL_PREFIX, "inbound").name }),
  );
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: JSON.stringify(m),
      MessageGroupId: conversationId,
      MessageDeduplicationId: inboundDeduplicationId(m),
    }),
  );
  for (
    let i = 0;
    i < 100 && !(await pageMessages({ ddb, tables }, conversationId, { after: 0 })).messages.length;
    i++
  ) {
    await sleep(100);
  }
  ddb.destroy();
  sqs.destroy();
  const stopMs = await ctrlC(first);
  expect(stopMs).toBeLessThan(10_000);
  expect(first.output()).toContain("Stopped.");

  const second = await npmStart(port);
  const ddb2 = createDynamoClient({ ...aws, dynamodbEndpoint: second.dynamodbEndpoint });
  const page = await pageMessages({ ddb: ddb2, tables }, conversationId, { after: 0 });
  ddb2.destroy();
  expect(page.messages.map((x) => [x.seq, (x as StoredMessage).body])).toEqual([[1, "still here?"]]);
  await ctrlC(second);
  console.log(`npm start: stopped in ${stopMs} ms`);
});
