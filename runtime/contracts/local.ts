/**
 * The AWS identity every local process, test, bench and script uses against the emulators. The emulators accept
 * any region and credentials, but the queue ARNs they hand out and the Lambda events the tests build carry the
 * region, so every party must name the same one: it is written once, here.
 */
export const LOCAL_REGION = "us-east-1";
export const LOCAL_CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" } as const;

/** The options of a raw SDK client (`new DynamoDBClient(...)`, `new SQSClient(...)`) pointed at an emulator. */
export function localClientConfig(endpoint: string): {
  endpoint: string;
  region: string;
  credentials: typeof LOCAL_CREDENTIALS;
} {
  return { endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
}
