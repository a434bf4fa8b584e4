/**
 * The DLQ tool against the local stack (real fauxqs, dynalite and persister runner): poison messages for a
 * conversation that does not exist yet land in the inbound DLQ; list/show explain them; a dry run changes
 * nothing; after the conversation is created, redrive stores each exactly once, in order.
 */
import { spawnSync } from "node:child_process";
import {
  GetQueueAttributesCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { queues } from "../../runtime/contracts";
import { startLocalStack, type LocalStack } from "../../runtime/local/stack";
import { repoRoot } from "../../runtime/local/processes";
import { createConversation } from "../../runtime/store/conversations";
import type { Db } from "../../runtime/store/db";
import { runDlq } from "../../scripts/dlq/cli";
import { awsClients, type AwsClients } from "../support/emulated";
import { allMessages, enqueue, inbound, newGroupId, queueCounts } from "../support/pipeline";
import { sleep, timeUntil } from "../support/timing";

jest.setTimeout(90_000);

let stack: LocalStack;
let clients: AwsClients;
let sqs: SQSClient;
let db: Db;

beforeAll(async () => {
  stack = await startLocalStack({ gateways: 0, inMemory: true, visibilityTimeoutSeconds: { inbound: 2 } });
  clients = awsClients(stack.aws, stack.provisioned.tableNames);
  ({ sqs, db } = clients);
  // fauxqs hands out one message per FIFO group at a time, so each poison message of a group dies on its own;
  // one receive instead of five keeps the wait short. The tool reads the count from the policy either way.
  const url = stack.provisioned.queueUrls.inbound;
  const a = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["RedrivePolicy"] }));
  const policy = { ...JSON.parse(a.Attributes!.RedrivePolicy!), maxReceiveCount: 1 };
  await sqs.send(
    new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { RedrivePolicy: JSON.stringify(policy) } }),
  );
});
afterAll(async () => {
  clients?.destroy();
  await stack?.stop();
});

async function dlq(...argv: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const code = await runDlq(argv, stack.env, { out: (l) => lines.push(l) });
  return { code, out: lines.join("\n") };
}

test("poison → list/show explain it → dry run changes nothing → fix → redrive stores each exactly once, in order", async () => {
  const ghost = newGroupId(); // a conversation that does not exist yet
  const sent = ["first", "second", "third"].map((id) => inbound(ghost, id));
  await enqueue(
    sqs,
    stack.provisioned.queueUrls.inbound,
    sent.map((m) => ({ body: m, group: ghost })),
  );
  await timeUntil(
    "3 dead letters",
    async () => (await queueCounts(sqs, stack.provisioned.dlqUrls.inbound)).total === 3,
    30_000,
  );

  const list = await dlq("list");
  expect(list.code).toBe(0);
  expect(list.out).toMatch(/^inbound\s+0\s+0\s+3\s+1\s/m);
  expect(list.out).toMatch(new RegExp(`^notify\\s+\\d+\\s+\\d+\\s+0\\s+${queues.notify.maxReceiveCount}\\s`, "m"));
  console.log(`npm run dlq -- list\n${list.out}`);

  const show = await dlq("show", "inbound");
  expect(show.code).toBe(0);
  console.log(`npm run dlq -- show inbound\n${show.out}`);
  expect(show.out).toContain(`group=${ghost}`);
  expect(show.out).toContain(`reason: conversation ${ghost} does not exist`);
  expect(show.out).toMatch(/receives=\d+/);
  expect(show.out).toMatch(/sent=\d{4}-\d\d-\d\dT/);
  // Showing hands the messages back.
  expect((await queueCounts(sqs, stack.provisioned.dlqUrls.inbound)).visible).toBe(3);

  const dry = await dlq("redrive", "inbound", "--dry-run");
  expect(dry.code).toBe(0);
  expect(dry.out).toContain("would redrive");
  expect(dry.out).toContain("nothing was moved");
  expect(await queueCounts(sqs, stack.provisioned.dlqUrls.inbound)).toEqual({ visible: 3, inFlight: 0, total: 3 });
  expect(await queueCounts(sqs, stack.provisioned.queueUrls.inbound)).toMatchObject({ total: 0 });

  // The fix: the conversation now exists.
  await createConversation(db, {
    conversationId: ghost,
    kind: "group",
    title: "late",
    memberIds: ["alice", "bob"],
    createdBy: "alice",
    createdAt: Date.now(),
  });
  const show2 = await dlq("show", "inbound");
  expect(show2.out).toContain("reason: body is valid");

  const moved = await dlq("redrive", "inbound");
  expect(moved.code).toBe(0);
  expect(moved.out).toContain("3 moved back");
  await timeUntil("3 stored", async () => (await allMessages(db, ghost)).length >= 3, 30_000);
  // A redrive interrupted between send and delete repeats a message: still stored once.
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: stack.provisioned.queueUrls.inbound,
      MessageBody: JSON.stringify(sent[1]),
      MessageGroupId: ghost,
      MessageDeduplicationId: "repeat-after-crash",
    }),
  );
  await timeUntil(
    "inbound drained",
    async () => (await queueCounts(sqs, stack.provisioned.queueUrls.inbound)).total === 0,
  );
  await sleep(300);
  const stored = await allMessages(db, ghost);
  expect(stored.map((m) => [m.seq, m.clientMessageId])).toEqual([
    [1, "first"],
    [2, "second"],
    [3, "third"],
  ]);
  expect((await queueCounts(sqs, stack.provisioned.dlqUrls.inbound)).total).toBe(0);
  expect((await dlq("redrive", "inbound")).out).toContain("0 moved back");
});

test("resolves queues by name through the RedrivePolicy when the URL env vars are unset", async () => {
  const lines: string[] = [];
  const env = { ...stack.env };
  delete env[queues.inbound.envVar];
  delete env[queues.notify.envVar];
  const code = await runDlq(["list", "inbound"], env, { out: (l) => lines.push(l) });
  expect(code).toBe(0);
  expect(lines.join("\n")).toContain(stack.provisioned.dlqUrls.inbound);
  const bad = await runDlq(["list", "inbound", "--prefix", "no-such-stack"], env, { out: (l) => lines.push(l) });
  expect(bad).toBe(1);
  expect(lines.at(-1)).toMatch(/queue "no-such-stack-inbound.fifo" not found/);
});

test("the npm entry point runs with the services' env and exits 2 on usage errors", () => {
  const run = (args: string[]) =>
    spawnSync(process.execPath, ["--import", "tsx", "scripts/dlq.ts", ...args], {
      cwd: repoRoot,
      env: { ...process.env, ...stack.env, NODE_NO_WARNINGS: "1" },
      encoding: "utf8",
      timeout: 30_000,
    });
  const ok = run(["list"]);
  expect(ok.status).toBe(0);
  expect(ok.stdout).toMatch(/^inbound\s/m);
  const bad = run(["redrive", "outbound"]);
  expect(bad.status).toBe(2);
  expect(bad.stderr).toMatch(/^dlq: unknown queue "outbound".*\(see --help\)\n$/);
});
