/**
 * The persister wired from a process's env: config, SDK clients, per-process caches and a JSON logger. The
 * Lambda entry (lambda.ts) and the local runner (runtime/local/runner.ts) both build it here.
 */
import type { SQSClient } from "@aws-sdk/client-sqs";
import { loadPersisterConfig, type Env, type PersisterConfig } from "../contracts/env";
import { createDynamoClient, createSqsClient } from "../aws/clients";
import { persistBatch, type CachedConversation, type PersisterLog } from "./persist-batch";
import type { SqsBatchResponse, SqsEvent } from "./sqs-event";

export interface WiredPersister {
  readonly config: PersisterConfig;
  readonly sqs: SQSClient;
  readonly log: PersisterLog;
  /** `remainingMs`: time left in the invocation (Lambda's context), if there is a deadline. */
  persist(event: SqsEvent, remainingMs?: () => number): Promise<SqsBatchResponse>;
}

export function persisterFromEnv(e: Env): WiredPersister {
  const config = loadPersisterConfig(e);
  const sqs = createSqsClient(config.aws);
  const db = { ddb: createDynamoClient(config.aws), tables: config.tables };
  const conversationCache = new Map<string, CachedConversation>();
  const lastSeqCache = new Map<string, number>();
  const line = (level: string) => (fields: Record<string, unknown>, msg: string) =>
    console.log(JSON.stringify({ level, msg, ...fields }));
  const log: PersisterLog = { warn: line("warn"), error: line("error") };
  return {
    config,
    sqs,
    log,
    persist: (event, remainingMs) =>
      persistBatch(event, {
        db,
        sqs,
        notifyQueueUrl: config.notifyQueueUrl,
        inboundQueueUrl: config.inboundQueueUrl,
        now: Date.now,
        log,
        conversationCache,
        editWindowMs: config.editWindowMs,
        lastSeqCache,
        remainingMs,
      }),
  };
}
