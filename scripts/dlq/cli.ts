/**
 * The DLQ tool as a function of (argv, env, io) → exit code, so tests run it in-process against the local
 * stack. Exit codes: 0 done, 1 a redrive left messages behind or the queues could not be resolved. Usage
 * mistakes and `--help` are thrown (UsageError, HelpRequested) for runCli to report, exit 2 / 0.
 */
import { CliError } from "../../runtime/cli/args";
import { createDynamoClient, createSqsClient } from "../../runtime/aws/clients";
import { env as envNames, loadAwsConfig, queueKeys, queues, tables, type Env } from "../../runtime/contracts";
import { noLocalStackHint, readStackState } from "../../runtime/local/state-file";
import type { Db } from "../../runtime/store/db";
import { parseDlqArgs, type DlqArgs } from "./args";
import { listQueues, redrive, showDeadLetters, type Io } from "./commands";
import { resolveQueue, ResolveError } from "./resolve";

/**
 * Env as the services would see it. When nothing names a stack (no queue URL vars, no endpoint, no --prefix),
 * the one a running `npm start` describes in its state file; without that, looking `parley-local-*` up in
 * whatever AWS account the default credentials reach would only fail with a credentials error.
 */
export function targetEnv(args: DlqArgs, env: Env): Env {
  const named =
    queueKeys.some((k) => env[queues[k].envVar]?.trim()) ||
    env[envNames.sqsEndpoint]?.trim() ||
    args.sqsEndpoint !== undefined ||
    args.prefix !== undefined;
  if (named) return env;
  const state = readStackState(args.dataDir);
  if (!state) throw new CliError(noLocalStackHint("--sqs-endpoint"));
  const out: Env = {
    ...env,
    [envNames.region]: state.region,
    [envNames.sqsEndpoint]: state.sqsEndpoint,
    [envNames.dynamodbEndpoint]: state.dynamodbEndpoint,
  };
  for (const k of queueKeys) if (state.queueUrls[k]) out[queues[k].envVar] = state.queueUrls[k];
  for (const k of ["conversations", "messages"] as const) {
    const name = state.tables[k];
    if (name && !env[tables[k].envVar]?.trim()) out[tables[k].envVar] = name;
  }
  return out;
}

export async function runDlq(argv: readonly string[], processEnv: Env, io: Io): Promise<number> {
  const args = parseDlqArgs(argv);
  const env = targetEnv(args, processEnv);
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
  const messagesTable = env[tables.messages.envVar]?.trim();
  const messages: Db<"messages"> | undefined =
    ddb && messagesTable ? { ddb, tables: { messages: messagesTable } } : undefined;
  try {
    const keys = args.queue ? [args.queue] : queueKeys;
    const resolved = await Promise.all(keys.map((k) => resolveQueue(sqs, k, env, args.prefix)));
    switch (args.command) {
      case "list":
        await listQueues(sqs, resolved, io);
        return 0;
      case "show":
        await showDeadLetters(sqs, resolved[0]!, { max: args.max, db, messages }, io);
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
