import { parseDlqArgs, UsageError } from "../../scripts/dlq/args";
import { deadLetterReason } from "../../scripts/dlq/reason";
import { parseQueueArn } from "../../scripts/dlq/resolve";

test("parses commands, queues and options", () => {
  expect(parseDlqArgs(["list"])).toMatchObject({ command: "list", queue: undefined, dryRun: false });
  expect(parseDlqArgs(["show", "notify"])).toMatchObject({ command: "show", queue: "notify", max: 10 });
  expect(parseDlqArgs(["redrive", "inbound", "--dry-run", "--max", "3"])).toMatchObject({
    command: "redrive",
    queue: "inbound",
    dryRun: true,
    max: 3,
  });
  expect(parseDlqArgs(["redrive", "inbound"]).max).toBe(Number.POSITIVE_INFINITY);
});

test.each([
  [[], /no command/],
  [["purge", "inbound"], /unknown command "purge"/],
  [["show"], /show needs a queue/],
  [["show", "outbound"], /unknown queue "outbound"/],
  [["show", "inbound", "--dry-run"], /--dry-run only applies to redrive/],
  [["redrive", "inbound", "--max", "0"], /--max must be a positive integer/],
  [["redrive", "inbound", "--max", "x"], /--max must be a positive integer/],
  [["list", "inbound", "extra"], /unexpected argument "extra"/],
  [["list", "--sqs-endpoint", "localhost"], /--sqs-endpoint must be a URL/],
  [["list", "--bogus"], /bogus/],
])("rejects %j", (argv, message) => {
  expect(() => parseDlqArgs(argv as string[])).toThrow(UsageError);
  expect(() => parseDlqArgs(argv as string[])).toThrow(message);
});

test("parses queue ARNs, including FIFO names", () => {
  expect(parseQueueArn("arn:aws:sqs:eu-west-1:123456789012:parley-prod-inbound-dlq.fifo")).toEqual({
    region: "eu-west-1",
    account: "123456789012",
    name: "parley-prod-inbound-dlq.fifo",
  });
  expect(() => parseQueueArn("https://sqs.eu-west-1.amazonaws.com/1/q")).toThrow(/not an SQS queue ARN/);
});

test("derives the reason from the body with the persister's own checks", async () => {
  expect(await deadLetterReason("inbound", "{not json")).toBe("body is not JSON");
  expect(
    await deadLetterReason(
      "inbound",
      JSON.stringify({ v: 1, conversationId: "x", senderId: "al", clientMessageId: "1", body: " ", sentAt: 1 }),
    ),
  ).toMatch(/conversationId: .*senderId: .*body: must not be blank/);
  expect(await deadLetterReason("notify", JSON.stringify({ v: 1 }))).toMatch(/message: /);
  const valid = {
    v: 1,
    conversationId: "g:abcdefgh12",
    senderId: "alice",
    clientMessageId: "m1",
    body: "hi",
    sentAt: 1,
  };
  expect(await deadLetterReason("inbound", JSON.stringify(valid))).toMatch(/membership not checked/);
});
