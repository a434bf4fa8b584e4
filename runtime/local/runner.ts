/**
 * The persister runner process: the persister handler under the local SQS event source. Started by the local
 * stack; killed with SIGKILL by the crash tests.
 */
import { createSqsClient } from "../aws/clients";
import { env, intVar, loadQueueUrl } from "../contracts/env";
import { runnerSettings } from "../contracts/settings";
import { persisterFromEnv } from "../persister/from-env";
import { SqsEventSource } from "./event-source";

async function main(): Promise<void> {
  const { config, sqs, log, persist } = persisterFromEnv(process.env);
  const inboundQueueUrl = loadQueueUrl(process.env, "inbound");
  const source = new SqsEventSource({
    sqs,
    pollSqs: createSqsClient(config.aws, "long polls"),
    queueUrl: inboundQueueUrl,
    region: config.aws.region,
    concurrency: intVar(process.env, env.runnerConcurrency, runnerSettings.concurrency),
    batchSize: intVar(process.env, env.runnerBatchSize, runnerSettings.batchSize),
    handler: (event) => persist(event),
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
