/**
 * A `send` the queue refuses for what it contains is refused again on every resend: the client gets VALIDATION
 * with SQS's reason. Only transient failures (throttling, 5xx, network) say UNAVAILABLE — "resend it". The
 * gateway runs in-process with its SQS client wrapped to fail the way SQS does.
 */
import { SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { createConversation } from "../../runtime/store/conversations";
import { Client } from "../support/clients";
import { type TestUser } from "../support/users";
import { awsError } from "../support/aws-faults";
import { startEmulated, type Emulated } from "../support/emulated";
import { inProcessGateways, type InProcessGateway } from "../support/in-process";
import { newGroupId } from "../support/pipeline";

let em: Emulated;
let gw: InProcessGateway;
let alice: TestUser;
let conversationId: string;
let client: Client;
/** What the next SendMessage does: undefined = reach fauxqs. */
let failWith: (() => Error) | undefined;

beforeAll(async () => {
  em = await startEmulated();
  const gateways = inProcessGateways(em);
  gw = await gateways.start({
    wrapClients: {
      sqs: (real) =>
        new Proxy(real, {
          get: (target, prop, receiver) =>
            prop === "send"
              ? (cmd: unknown) => {
                  if (cmd instanceof SendMessageCommand && failWith) return Promise.reject(failWith());
                  return target.send(cmd as never);
                }
              : Reflect.get(target, prop, receiver),
        }) as SQSClient,
    },
  });
  alice = await gateways.user("alice");
  const bob = await gateways.user("bob");
  conversationId = newGroupId();
  await createConversation(em.db, {
    conversationId,
    kind: "group",
    title: "errors",
    memberIds: [alice.userId, bob.userId],
    createdBy: alice.userId,
    createdAt: Date.now(),
  });
  client = await Client.connect(gw.url, alice.token, { name: "alice" });
}, 60_000);

afterAll(async () => {
  await client?.close();
  await gw?.stop();
  await em?.close();
});

async function answerTo(clientMessageId: string) {
  client.send({ type: "send", conversationId, clientMessageId, body: "hello" });
  return client.waitFor(
    (f) =>
      (f.type === "accepted" && f.clientMessageId === clientMessageId) || f.ref?.clientMessageId === clientMessageId,
    10_000,
    `answer to ${clientMessageId}`,
  );
}

const invalidContents = () =>
  Object.assign(awsError("InvalidMessageContents", "Invalid characters found."), {
    Code: "AWS.SimpleQueueService.InvalidMessageContents",
  });
const tooLong = () =>
  awsError(
    "InvalidParameterValue",
    "One or more parameters are invalid. Reason: Message must be shorter than 262144 bytes.",
  );

describe("send when SQS refuses the message", () => {
  it.each([
    ["InvalidMessageContents", invalidContents, /InvalidMessageContents: Invalid characters found/],
    ["message too long", tooLong, /Message must be shorter than 262144 bytes/],
  ])("%s → VALIDATION with the reason, never 'resend'", async (_what, error, reason) => {
    failWith = error;
    const id = `perm-${Math.random().toString(36).slice(2, 8)}`;
    const answer = await answerTo(id);
    expect(answer).toMatchObject({ type: "error", code: "VALIDATION", ref: { type: "send", clientMessageId: id } });
    expect(answer.message).toMatch(reason);
    expect(answer.message).not.toMatch(/resend it$/);
  });
});

describe("send when SQS fails for a while", () => {
  it.each([
    ["throttling", () => awsError("ThrottlingException", "Rate exceeded")],
    ["a 500", () => awsError("InternalError", "We encountered an internal error.", 500)],
    ["a 5xx under a validation name", () => awsError("InvalidParameterValue", "service failure", 503)],
    ["the network", () => Object.assign(new Error("socket hang up"), { code: "ECONNRESET" })],
  ])("%s → UNAVAILABLE: resend it", async (_what, error) => {
    failWith = error;
    const id = `tmp-${Math.random().toString(36).slice(2, 8)}`;
    const answer = await answerTo(id);
    expect(answer).toMatchObject({ type: "error", code: "UNAVAILABLE", ref: { clientMessageId: id } });
    expect(answer.message).toMatch(/resend/);
  });

  it("and once SQS answers again, the same send is accepted", async () => {
    failWith = undefined;
    expect(await answerTo("after-recovery")).toMatchObject({ type: "accepted", clientMessageId: "after-recovery" });
  });
});
