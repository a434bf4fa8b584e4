/**
 * Which DynamoDB emulator the local fixtures run. PARLEY_LOCAL_DYNAMODB picks it (`npm run test:conformance`
 * sets dynamodb-local; unset means dynalite). Each backend is recognised by its process and by behaviour the
 * other lacks (transactions, 1 MB pages counted in UTF-8 bytes), so the switch cannot fall back silently.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  ListTablesCommand,
  PutItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
} from "@aws-sdk/client-dynamodb";
import { ConfigError, env, loadLocalDynamodb, localClientConfig } from "../../runtime/contracts";
import { startEmulators, type Emulators } from "../../runtime/local/emulators";
import { untilTableActive } from "../../runtime/local/provision";

const requested = process.env[env.localDynamodb];
const expected = requested === "dynamodb-local" ? "dynamodb-local" : "dynalite";

const clientFor = (endpoint: string) => new DynamoDBClient({ ...localClientConfig(endpoint), maxAttempts: 1 });

async function createTable(ddb: DynamoDBClient, name: string): Promise<void> {
  await ddb.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [
        { AttributeName: "pk", AttributeType: "S" },
        { AttributeName: "sk", AttributeType: "N" },
      ],
      KeySchema: [
        { AttributeName: "pk", KeyType: "HASH" },
        { AttributeName: "sk", KeyType: "RANGE" },
      ],
    }),
  );
  // CI once saw the first PutItem refused with ResourceNotFoundException: the table was still CREATING.
  await untilTableActive(ddb, name);
}

test("the switch parses to exactly one backend", () => {
  expect(loadLocalDynamodb({})).toBe("dynalite");
  expect(loadLocalDynamodb({ [env.localDynamodb]: " dynamodb-local " })).toBe("dynamodb-local");
  expect(() => loadLocalDynamodb({ [env.localDynamodb]: "dynamodb" })).toThrow(ConfigError);
  expect(() => loadLocalDynamodb({ [env.localDynamodb]: "dynamodb" })).toThrow(/PARLEY_LOCAL_DYNAMODB must be one of/);
});

describe(`the emulators run ${expected} (${env.localDynamodb}=${requested ?? ""})`, () => {
  let emulators: Emulators;
  let ddb: DynamoDBClient;

  beforeAll(async () => {
    emulators = await startEmulators();
    ddb = clientFor(emulators.dynamodb.endpoint);
    await createTable(ddb, "backend-probe");
  }, 90_000);

  afterAll(async () => {
    ddb?.destroy();
    await emulators?.stop();
  });

  test("the DynamoDB emulator is the requested process", () => {
    expect(emulators.dynamodb.name).toBe(expected);
    expect(path.basename(emulators.dynamodb.process.spawnfile)).toBe(expected === "dynamodb-local" ? "java" : "node");
    expect(emulators.dynamodb.process.spawnargs.join(" ")).toContain(
      expected === "dynamodb-local" ? "DynamoDBLocal.jar" : "dynalite",
    );
  });

  test("transactions: DynamoDB Local runs them, dynalite does not know the operation", async () => {
    const write = ddb.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          { Put: { TableName: "backend-probe", Item: { pk: { S: "tx" }, sk: { N: "1" } } } },
          { Put: { TableName: "backend-probe", Item: { pk: { S: "tx" }, sk: { N: "2" } } } },
        ],
      }),
    );
    if (expected === "dynamodb-local") {
      await write;
      const got = await ddb.send(
        new GetItemCommand({ TableName: "backend-probe", Key: { pk: { S: "tx" }, sk: { N: "2" } } }),
      );
      expect(got.Item).toEqual({ pk: { S: "tx" }, sk: { N: "2" } });
    } else {
      await expect(write).rejects.toMatchObject({ name: "UnknownOperationException" });
    }
  });

  test("a Query page ends at 1 MB of UTF-8 on DynamoDB Local, and only at 1 MB of characters on dynalite", async () => {
    // 10 items of 50,000 three-byte characters: 0.5 M characters but 1.5 MB of UTF-8.
    const body = "€".repeat(50_000);
    for (let i = 1; i <= 10; i++) {
      await ddb.send(
        new PutItemCommand({
          TableName: "backend-probe",
          Item: { pk: { S: "big" }, sk: { N: String(i) }, body: { S: body } },
        }),
      );
    }
    const page = await ddb.send(
      new QueryCommand({
        TableName: "backend-probe",
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": { S: "big" } },
      }),
    );
    if (expected === "dynamodb-local") {
      expect(page.Count).toBeLessThan(10);
      expect(page.LastEvaluatedKey).toEqual({ pk: { S: "big" }, sk: { N: String(page.Count) } });
    } else {
      expect(page.Count).toBe(10);
      expect(page.LastEvaluatedKey).toBeUndefined();
    }
  });
});

test(`${expected} restarted on disk comes back on the same port with the same tables`, async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), "parley-backend-"));
  const emulators = await startEmulators({ dataDir });
  const ddb = clientFor(emulators.dynamodb.endpoint);
  try {
    await createTable(ddb, "survives-restart");
    await ddb.send(
      new PutItemCommand({ TableName: "survives-restart", Item: { pk: { S: "a" }, sk: { N: "1" }, v: { S: "kept" } } }),
    );
    const before = emulators.dynamodb.process.pid;
    await emulators.dynamodb.restart();
    expect(emulators.dynamodb.process.pid).not.toBe(before);
    expect((await ddb.send(new ListTablesCommand({}))).TableNames).toEqual(["survives-restart"]);
    const got = await ddb.send(
      new GetItemCommand({ TableName: "survives-restart", Key: { pk: { S: "a" }, sk: { N: "1" } } }),
    );
    expect(got.Item?.v).toEqual({ S: "kept" });
  } finally {
    ddb.destroy();
    await emulators.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}, 120_000);
