/**
 * The persister as AWS Lambda runs it. The Pulumi component bundles this module and evaluates it at cold
 * start, so everything the handler needs is built inside createHandler.
 */
import { persisterFromEnv } from "./from-env";
import type { SqsBatchResponse, SqsEvent } from "./sqs-event";

interface LambdaContext {
  getRemainingTimeInMillis(): number;
}

export function createHandler(): (event: SqsEvent, context?: LambdaContext) => Promise<SqsBatchResponse> {
  const persister = persisterFromEnv(process.env);
  return (event, context) => persister.persist(event, context && (() => context.getRemainingTimeInMillis()));
}
