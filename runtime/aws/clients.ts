/**
 * SDK clients built from AwsConfig. Locally the endpoints point at the emulators (dummy credentials);
 * in AWS they are unset and the SDK's default chain supplies region and credentials.
 */
import { Agent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { SQSClient } from "@aws-sdk/client-sqs";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { LOCAL_CREDENTIALS, type AwsConfig } from "../contracts";

function requestHandler() {
  // Keep-alive sockets: the hot path makes many small calls to the same endpoint.
  return new NodeHttpHandler({
    httpAgent: new Agent({ keepAlive: true, maxSockets: 64 }),
    httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: 64 }),
    connectionTimeout: 3_000,
    requestTimeout: 25_000,
  });
}

export function createDynamoClient(aws: AwsConfig): DynamoDBDocumentClient {
  const client = new DynamoDBClient({
    region: aws.region,
    requestHandler: requestHandler(),
    ...(aws.dynamodbEndpoint ? { endpoint: aws.dynamodbEndpoint, credentials: LOCAL_CREDENTIALS } : {}),
  });
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

export function createSqsClient(aws: AwsConfig): SQSClient {
  return new SQSClient({
    region: aws.region,
    requestHandler: requestHandler(),
    ...(aws.sqsEndpoint
      ? { endpoint: aws.sqsEndpoint, credentials: LOCAL_CREDENTIALS, useQueueUrlAsEndpoint: false }
      : {}),
  });
}
