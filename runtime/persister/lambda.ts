/**
 * The persister as AWS Lambda runs it. Pulumi serializes this module by value into the callback function,
 * so everything the handler needs is built inside createHandler, at cold start.
 */
import { loadPersisterConfig } from "../contracts/env";
import { createDynamoClient, createSqsClient } from "../aws/clients";
import { persistBatch } from "./persist-batch";
import type { SqsBatchResponse, SqsEvent } from "./sqs-event";

interface LambdaContext {
  getRemainingTimeInMillis(): number;
}

export function createHandler(): (event: SqsEvent, context?: LambdaContext) => Promise<SqsBatchResponse> {
  const config = loadPersisterConfig(process.env);
  const db = { ddb: createDynamoClient(config.aws), tables: config.tables };
  const sqs = createSqsClient(config.aws);
  const membersCache = new Map<string, { memberIds: readonly string[]; until: number }>();
  const lastSeqCache = new Map<string, number>();
  const log = {
    warn: (fields: Record<string, unknown>, msg: string) =>
      console.warn(JSON.stringify({ level: "warn", msg, ...fields })),
    error: (fields: Record<string, unknown>, msg: string) =>
      console.error(JSON.stringify({ level: "error", msg, ...fields })),
  };
  return (event, context) =>
    persistBatch(event, {
      db,
      sqs,
      notifyQueueUrl: config.notifyQueueUrl,
      now: Date.now,
      log,
      membersCache,
      lastSeqCache,
      remainingMs: context ? () => context.getRemainingTimeInMillis() : undefined,
    });
}
