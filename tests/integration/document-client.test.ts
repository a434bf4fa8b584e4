/**
 * Parley's document client (runtime/aws/document-client.ts) against lib-dynamodb's, on dynalite: every command the
 * store sends gives the same answer through both, item for item, and the middleware cache it is built for does not
 * mix one call's command into the next.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { createDynamoClient, createSqsClient } from "../../runtime/aws/clients";
import { documentClient, type DocumentClient, type DocumentCommand } from "../../runtime/aws/document-client";
import { localClientConfig } from "../../runtime/contracts";
import { startEmulated, type Emulated } from "../support/emulated";

let em: Emulated;
let ours: DocumentClient;
let lib: DynamoDBDocumentClient;
let messages: string;

beforeAll(async () => {
  em = await startEmulated();
  ours = createDynamoClient(em.aws);
  lib = DynamoDBDocumentClient.from(new DynamoDBClient(localClientConfig(em.aws.dynamodbEndpoint!)), {
    marshallOptions: { removeUndefinedValues: true },
  });
  messages = em.provisioned.tableNames.messages;
});

afterAll(async () => {
  ours.destroy();
  lib.destroy();
  await em.close();
});

/** Sends `make(tag)` through both clients (each on its own keys) and returns both answers without `$metadata`. */
async function both(make: (tag: string) => DocumentCommand): Promise<[unknown, unknown]> {
  const strip = (o: unknown) => {
    const { $metadata: _, ...rest } = o as Record<string, unknown>;
    return JSON.parse(JSON.stringify(rest, (_k, v) => (v instanceof Set ? { set: [...v].sort() } : v)));
  };
  const a = await ours.send(make("ours"));
  const b = await lib.send(make("lib") as never);
  return [strip(a), strip(b)].map((o) => JSON.parse(JSON.stringify(o).replaceAll('"lib', '"ours'))) as [
    unknown,
    unknown,
  ];
}

const item = (tag: string, seq: number) => ({
  conversationId: `${tag}-c`,
  seq,
  body: "héllo 👋",
  nested: { list: [1, "two", { three: true }], empty: "", nothing: null },
  tags: new Set(["b", "a"]),
  skipped: undefined,
});

test("put, get, update and delete answer as lib-dynamodb's do", async () => {
  for (const seq of [1, 2, 3]) {
    const [a, b] = await both((t) => new PutCommand({ TableName: messages, Item: item(t, seq), ReturnValues: "NONE" }));
    expect(a).toEqual(b);
  }
  const [got, gotLib] = await both(
    (t) => new GetCommand({ TableName: messages, Key: { conversationId: `${t}-c`, seq: 2 }, ConsistentRead: true }),
  );
  expect(got).toEqual(gotLib);
  expect(got).toMatchObject({ Item: { seq: 2, body: "héllo 👋", nested: { list: [1, "two", { three: true }] } } });
  const [updated, updatedLib] = await both(
    (t) =>
      new UpdateCommand({
        TableName: messages,
        Key: { conversationId: `${t}-c`, seq: 2 },
        UpdateExpression: "SET #b = :b, #l = list_append(if_not_exists(#l, :none), :one)",
        ConditionExpression: "attribute_exists(seq)",
        ExpressionAttributeNames: { "#b": "body", "#l": "edits" },
        ExpressionAttributeValues: { ":b": "edited", ":none": [], ":one": [7] },
        ReturnValues: "ALL_NEW",
      }),
  );
  expect(updated).toEqual(updatedLib);
  expect(updated).toMatchObject({ Attributes: { body: "edited", edits: [7] } });
  const [missing, missingLib] = await both(
    (t) => new GetCommand({ TableName: messages, Key: { conversationId: `${t}-c`, seq: 99 } }),
  );
  expect(missing).toEqual(missingLib);
  expect(missing).not.toHaveProperty("Item.seq");
  const [deleted, deletedLib] = await both(
    (t) =>
      new DeleteCommand({ TableName: messages, Key: { conversationId: `${t}-c`, seq: 3 }, ReturnValues: "ALL_OLD" }),
  );
  expect(deleted).toEqual(deletedLib);
  expect(deleted).toMatchObject({ Attributes: { seq: 3 } });
});

test("a refused condition is the same ConditionalCheckFailedException", async () => {
  const put = (t: string) =>
    new PutCommand({ TableName: messages, Item: item(t, 1), ConditionExpression: "attribute_not_exists(seq)" });
  await expect(ours.send(put("ours"))).rejects.toMatchObject({ name: "ConditionalCheckFailedException" });
  await expect(lib.send(put("lib"))).rejects.toMatchObject({ name: "ConditionalCheckFailedException" });
});

test("query and scan pages, with LastEvaluatedKey fed back as ExclusiveStartKey, match", async () => {
  const query = (t: string, start?: Record<string, unknown>) =>
    new QueryCommand({
      TableName: messages,
      KeyConditionExpression: "conversationId = :c AND seq > :s",
      ExpressionAttributeValues: { ":c": `${t}-c`, ":s": 0 },
      Limit: 1,
      ...(start ? { ExclusiveStartKey: start } : {}),
    });
  const [first, firstLib] = await both((t) => query(t));
  expect(first).toEqual(firstLib);
  const last = (first as { LastEvaluatedKey: Record<string, unknown> }).LastEvaluatedKey;
  expect(last).toEqual({ conversationId: "ours-c", seq: 1 });
  const [second, secondLib] = await both((t) => query(t, { ...last, conversationId: `${t}-c` }));
  expect(second).toEqual(secondLib);
  expect(second).toMatchObject({ Items: [{ seq: 2 }] });
  const scan = (await ours.send(new ScanCommand({ TableName: messages }))).Items ?? [];
  expect(scan.map((i) => `${i.conversationId}#${i.seq}`).sort()).toEqual([
    "lib-c#1",
    "lib-c#2",
    "ours-c#1",
    "ours-c#2",
  ]);
});

test("batch get and batch write match, and consecutive calls of one class keep their own inputs", async () => {
  const [wrote, wroteLib] = await both(
    (t) =>
      new BatchWriteCommand({
        RequestItems: {
          [messages]: [
            { PutRequest: { Item: item(t, 10) } },
            { PutRequest: { Item: item(t, 11) } },
            { DeleteRequest: { Key: { conversationId: `${t}-c`, seq: 1 } } },
          ],
        },
      }),
  );
  expect(wrote).toEqual(wroteLib);
  const [read, readLib] = await both(
    (t) =>
      new BatchGetCommand({
        RequestItems: {
          [messages]: {
            Keys: [10, 11, 1].map((seq) => ({ conversationId: `${t}-c`, seq })),
            ConsistentRead: true,
          },
        },
      }),
  );
  const seqs = (o: unknown) =>
    ((o as { Responses: Record<string, { seq: number }[]> }).Responses[messages] ?? []).map((i) => i.seq).sort();
  expect(seqs(read)).toEqual([10, 11]);
  expect(seqs(read)).toEqual(seqs(readLib));
  // The cached handler serves every GetCommand: each call must still send its own key.
  const got = await Promise.all(
    [10, 11, 2].map((seq) =>
      ours.send(new GetCommand({ TableName: messages, Key: { conversationId: "ours-c", seq } })),
    ),
  );
  expect(got.map((g) => g.Item?.seq)).toEqual([10, 11, 2]);
});

test("unprocessed keys and items come back unmarshalled, as lib-dynamodb returns them", async () => {
  const raw = {
    send: async (cmd: { constructor: { name: string } }) =>
      cmd.constructor.name === "BatchGetItemCommand"
        ? { Responses: { t: [] }, UnprocessedKeys: { t: { Keys: [{ id: { S: "k" }, n: { N: "2" } }] } } }
        : {
            UnprocessedItems: {
              t: [{ PutRequest: { Item: { id: { S: "p" } } } }, { DeleteRequest: { Key: { id: { S: "d" } } } }],
            },
          },
    destroy: () => undefined,
  };
  const client = documentClient(raw as never);
  const got = await client.send(new BatchGetCommand({ RequestItems: { t: { Keys: [{ id: "k", n: 2 }] } } }));
  expect(got.UnprocessedKeys).toEqual({ t: { Keys: [{ id: "k", n: 2 }] } });
  const wrote = await client.send(
    new BatchWriteCommand({ RequestItems: { t: [{ PutRequest: { Item: { id: "p" } } }] } }),
  );
  expect(wrote.UnprocessedItems).toEqual({
    t: [{ PutRequest: { Item: { id: "p" } } }, { DeleteRequest: { Key: { id: "d" } } }],
  });
});

test("short-call clients cache their middleware; the long-poll client does not", async () => {
  const calls = createSqsClient(em.aws);
  const polls = createSqsClient(em.aws, "long polls");
  expect(calls.config.cacheMiddleware).toBe(true);
  expect(polls.config.cacheMiddleware).toBe(false);
  calls.destroy();
  polls.destroy();
});

test("a command it has no codec for is refused by name, not sent unmarshalled", async () => {
  const { TransactWriteCommand } = await import("@aws-sdk/lib-dynamodb");
  await expect(ours.send(new TransactWriteCommand({ TransactItems: [] }) as never)).rejects.toThrow(
    "the document client does not send TransactWriteCommand",
  );
});
