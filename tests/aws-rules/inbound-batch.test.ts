/**
 * The gateway's inbound sends (runtime/gateway/inbound.ts): sends that arrive in one event-loop turn go out as one
 * SendMessageBatch to the real FIFO queue (fauxqs), in order, each answered by its own entry's result; a lone
 * send is a plain SendMessage; batches respect SQS's 10 entries and the byte cap.
 */
import {
  SendMessageBatchCommand,
  SendMessageCommand,
  type SendMessageBatchCommandOutput,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { InboundMessage } from "../../runtime/contracts";
import { BATCH_BYTES_MAX, InboundSender } from "../../runtime/gateway/inbound";
import type { FrameError } from "../../runtime/gateway/frames";
import { drainQueue, startEmulated, type Emulated } from "../support/emulated";
import { newGroupId } from "../support/pipeline";

let em: Emulated;
beforeAll(async () => {
  em = await startEmulated();
});
afterAll(() => em.close());

const log = { warn: jest.fn(), error: jest.fn(), info: jest.fn(), debug: jest.fn() };

function message(conversationId: string, id: string, body = `body ${id}`): InboundMessage {
  return { v: 1, conversationId, senderId: "alice", clientMessageId: id, body, sentAt: Date.now() };
}

/** The SQS client, with each command it sends named in `sent`; `answer` replaces the service for a batch. */
function counting(real: SQSClient, answer?: (cmd: SendMessageBatchCommand) => SendMessageBatchCommandOutput) {
  const sent: string[] = [];
  const sqs = new Proxy(real, {
    get: (target, prop, receiver) =>
      prop === "send"
        ? (cmd: SendMessageCommand | SendMessageBatchCommand) => {
            sent.push(
              cmd instanceof SendMessageBatchCommand ? `batch of ${cmd.input.Entries?.length}` : cmd.constructor.name,
            );
            if (answer && cmd instanceof SendMessageBatchCommand) return Promise.resolve(answer(cmd));
            return target.send(cmd as never);
          }
        : Reflect.get(target, prop, receiver),
  }) as SQSClient;
  return { sqs, sent };
}

const senderWith = (sqs: SQSClient) =>
  new InboundSender({ sqs, config: { inboundQueueUrl: em.provisioned.queueUrls.inbound } as never, log: log as never });

test("sends of one turn go out as one batch, in order; a lone send is a SendMessage", async () => {
  const { sqs, sent } = counting(em.sqs);
  const sender = senderWith(sqs);
  const c = newGroupId();
  await Promise.all(["a", "b", "c"].map((id) => sender.enqueue(message(c, id), "conn")));
  await sender.enqueue(message(c, "d"), "conn");
  expect(sent).toEqual(["batch of 3", "SendMessageCommand"]);
  const bodies = (await drainQueue(em.sqs, em.provisioned.queueUrls.inbound)).map(
    (b) => (JSON.parse(b) as InboundMessage).clientMessageId,
  );
  expect(bodies).toEqual(["a", "b", "c", "d"]);
});

test("25 sends in one turn are three batches; large bodies split by bytes", async () => {
  const { sqs, sent } = counting(em.sqs);
  const sender = senderWith(sqs);
  const c = newGroupId();
  await Promise.all(Array.from({ length: 25 }, (_, i) => sender.enqueue(message(c, `m${i}`), "conn")));
  expect(sent).toEqual(["batch of 10", "batch of 10", "batch of 5"]);
  sent.length = 0;
  const big = "x".repeat(Math.floor(BATCH_BYTES_MAX / 2.5));
  await Promise.all(["p", "q", "r"].map((id) => sender.enqueue(message(c, id, big), "conn")));
  expect(sent).toEqual(["batch of 2", "SendMessageCommand"]);
  await drainQueue(em.sqs, em.provisioned.queueUrls.inbound);
});

test("each entry is answered by its own result: refused for its content → VALIDATION, service fault → UNAVAILABLE", async () => {
  const { sqs } = counting(em.sqs, () => ({
    $metadata: {},
    Successful: [{ Id: "0", MessageId: "x", MD5OfMessageBody: "" }],
    Failed: [
      { Id: "1", Code: "InvalidMessageContents", Message: "Invalid characters found.", SenderFault: true },
      { Id: "2", Code: "InternalError", Message: "try again", SenderFault: false },
    ],
  }));
  const sender = senderWith(sqs);
  const c = newGroupId();
  const results = await Promise.allSettled(["ok", "bad", "flaky"].map((id) => sender.enqueue(message(c, id), "conn")));
  expect(results[0]).toEqual({ status: "fulfilled", value: undefined });
  const reason = (r: PromiseSettledResult<void>) => (r as PromiseRejectedResult).reason as FrameError;
  expect(reason(results[1]!).code).toBe("VALIDATION");
  expect(reason(results[1]!).message).toMatch(/InvalidMessageContents: Invalid characters found/);
  expect(reason(results[2]!).code).toBe("UNAVAILABLE");
  expect(reason(results[2]!).message).toMatch(/resend it$/);
});
