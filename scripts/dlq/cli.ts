/**
 * The DLQ tool as a function of (argv, env, io) → exit code, so tests run it in-process against the local
 * stack. Exit codes: 0 done, 1 a redrive left messages behind or the queues could not be resolved, 2 usage.
 */
import { createDynamoClient, createSqsClient } from "../../runtime/aws/clients";
import { loadAwsConfig, queueKeys, tables, type Env } from "../../runtime/contracts";
import type { Db } from "../../runtime/store/db";
import { parseDlqArgs, usage, UsageError } from "./args";
import { listQueues, redrive, showDeadLetters, type Io } from "./commands";
import { resolveQueue, ResolveError } from "./resolve";

export async function runDlq(argv: readonly string[], env: Env, io: Io): Promise<number> {
  let args;
  try {
    args = parseDlqArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.out(`${err.message}\n\n${usage}`);
    return 2;
  }
  const base = loadAwsConfig(env);
  const aws = {
    ...base,
    region: args.region ?? base.region,
    sqsEndpoint: args.sqsEndpoint ?? base.sqsEndpoint,
  };
  const sqs = createSqsClient(aws);
  const conversationsTable = env[tables.conversations.envVar]?.trim();
  const ddb = conversationsTable ? createDynamoClient(aws) : undefined;
  const db: Db<"conversations"> | undefined = ddb && { ddb, tables: { conversations: conversationsTable! } };
  try {
    const keys = args.queue ? [args.queue] : queueKeys;
    const resolved = await Promise.all(keys.map((k) => resolveQueue(sqs, k, env, args.prefix)));
    switch (args.command) {
      case "list":
        await listQueues(sqs, resolved, io);
        return 0;
      case "show":
        await showDeadLetters(sqs, resolved[0]!, { max: args.max, db }, io);
        return 0;
      case "redrive": {
        const r = await redrive(sqs, resolved[0]!, { max: args.max, dryRun: args.dryRun }, io);
        return r.failed ? 1 : 0;
      }
      default:
        return args.command satisfies never;
    }
  } catch (err) {
    if (err instanceof ResolveError) {
      io.out(`error: ${err.message}`);
      return 1;
    }
    throw err;
  } finally {
    sqs.destroy();
    ddb?.destroy();
  }
}
