/**
 * SDK clients built from AwsConfig. Locally the endpoints point at the emulators (dummy credentials);
 * in AWS they are unset and the SDK's default chain supplies region and credentials.
 *
 * Clients for short calls are built with `cacheMiddleware: true`: the SDK then resolves each command class's
 * middleware stack once per client instead of on every call, about half of its client-side CPU per call
 * (`npx tsx bench/sdk-cost.ts`). A call sent with options (an abort signal) bypasses that cache and empties it, so
 * long polls, the only calls that carry one, get a client of their own (`createSqsClient(aws, "long polls")`),
 * which also keeps the sockets they hold for seconds apart from the short calls' pool.
 */
import { Agent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SQSClient } from "@aws-sdk/client-sqs";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { LOCAL_CREDENTIALS, type AwsConfig } from "../contracts";
import { documentClient, type DocumentClient } from "./document-client";

function requestHandler() {
  // Keep-alive sockets: the hot path makes many small calls to the same endpoint.
  return new NodeHttpHandler({
    httpAgent: new Agent({ keepAlive: true, maxSockets: 64 }),
    httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: 64 }),
    connectionTimeout: 3_000,
    requestTimeout: 25_000,
  });
}

export type { DocumentClient } from "./document-client";

export function createDynamoClient(aws: AwsConfig): DocumentClient {
  const client = new DynamoDBClient({
    region: aws.region,
    requestHandler: requestHandler(),
    cacheMiddleware: true,
    ...(aws.dynamodbEndpoint ? { endpoint: aws.dynamodbEndpoint, credentials: LOCAL_CREDENTIALS } : {}),
  });
  return documentClient(client);
}

/** `use`: "calls" (sends, deletes, attribute reads; middleware cached) or "long polls" (receives with an abort signal). */
export function createSqsClient(aws: AwsConfig, use: "calls" | "long polls" = "calls"): SQSClient {
  return new SQSClient({
    region: aws.region,
    requestHandler: requestHandler(),
    cacheMiddleware: use === "calls",
    ...(aws.sqsEndpoint
      ? { endpoint: aws.sqsEndpoint, credentials: LOCAL_CREDENTIALS, useQueueUrlAsEndpoint: false }
      : {}),
  });
}
