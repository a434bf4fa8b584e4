/**
 * The persister runner process: the persister handler under the local SQS event source. Started by the local
 * stack; killed with SIGKILL by the crash tests.
 */
import { env, intVar, loadAwsConfig, loadPersisterConfig, loadQueueUrl } from "../contracts/env";
import { createDynamoClient, createSqsClient } from "../aws/clients";
import { persistBatch } from "../persister/persist-batch";
import { SqsEventSource } from "./event-source";

async function main(): Promise<void> {
  const config = loadPersisterConfig(process.env);
  const inboundQueueUrl = loadQueueUrl(process.env, "inbound");
  const sqs = createSqsClient(config.aws);
  const db = { ddb: createDynamoClient(config.aws), tables: config.tables };
  const log = {
    warn: (f: Record<string, unknown>, msg: string) => console.log(JSON.stringify({ level: "warn", msg, ...f })),
    error: (f: Record<string, unknown>, msg: string) => console.log(JSON.stringify({ level: "error", msg, ...f })),
  };
  const membersCache = new Map<string, { memberIds: readonly string[]; until: number }>();
  const lastSeqCache = new Map<string, number>();
  const source = new SqsEventSource({
    sqs,
    queueUrl: inboundQueueUrl,
    region: loadAwsConfig(process.env).region,
    concurrency: intVar(process.env, env.runnerConcurrency, 4, 1, 64),
    batchSize: intVar(process.env, env.runnerBatchSize, 10, 1, 10),
    handler: (event) =>
      persistBatch(event, {
        db,
        sqs,
        notifyQueueUrl: config.notifyQueueUrl,
        now: Date.now,
        log,
        membersCache,
        lastSeqCache,
      }),
    onError: (err, context) => log.error({ context, reason: String(err) }, "event source error"),
  });
  await source.start();
  console.log(JSON.stringify({ level: "info", msg: "persister runner polling", queue: inboundQueueUrl }));

  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    await source.stop();
    process.exit(0);
  };
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
}

main().catch((err) => {
  console.error(JSON.stringify({ level: "fatal", msg: "persister runner failed to start", reason: String(err) }));
  process.exit(1);
});
