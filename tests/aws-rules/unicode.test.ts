/**
 * Any text end to end, through the real local stack (gateway process → fauxqs inbound FIFO → persister →
 * dynalite → notify queue → gateway → socket). SQS takes every XML 1.0 character, emoji included; fauxqs refuses
 * anything above U+FFFF, so the queue bodies escape those (contracts encodeQueueBody) and the stored body must
 * still equal the sent one, byte for byte.
 */
import { createDynamoClient } from "../../runtime/aws/clients";
import { encodeQueueBody, MAX_BODY_CHARS, tableNamesFor, type StoredMessage } from "../../runtime/contracts";
import { LOCAL_PREFIX, startLocalStack, type LocalStack } from "../../runtime/local/stack";
import { getConversation } from "../../runtime/store/conversations";
import { getMessage } from "../../runtime/store/messages";
import { api, Client } from "../support/clients";
import { signup } from "../support/users";

jest.setTimeout(120_000);

const bodies: Record<string, string> = {
  emoji: "hello 😀🎉🚀 and 👍🏽",
  zwj: "family 👩‍👩‍👧‍👦 and 🧑🏿‍🚀",
  flags: "🇯🇵🇫🇷🇧🇷 🏴󠁧󠁢󠁳󠁣󠁴󠁿",
  astralCjk: "𠀋𠂉𪚲 𩸽 (Plane 2 ideographs)",
  rtl: "مرحبا بالعالم — שלום עולם",
  combining: "e\u0301 a\u0308 n\u0303 Z\u0324\u0354\u0367\u0311a\u0308\u0356 क्षि",
  mixed: "日本語 한국어 ελληνικά 😀 مرحبا 𠀋 🇯🇵\tand a tab",
  noncharacters: "U+FFFD \uFFFD, U+FFFE \uFFFE, U+FFFF \uFFFF",
  // 3,999 UTF-16 units: the 120-unit preview would end halfway through an emoji.
  longest: "x" + "😀".repeat((MAX_BODY_CHARS - 2) / 2),
};

let stack: LocalStack;
const clients: Client[] = [];

beforeAll(async () => {
  stack = await startLocalStack({ gateways: 1, inMemory: true });
}, 120_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await stack?.stop();
});

describe("encodeQueueBody", () => {
  it("writes only characters fauxqs and SQS accept, and JSON.parse gives back the same value", () => {
    for (const body of Object.values(bodies)) {
      const value = { v: 1, body, nested: [body] };
      const encoded = encodeQueueBody(value);
      // fauxqs's own check (and SQS's, within the BMP): nothing outside #x20–#xD7FF, #xE000–#xFFFD (JSON escapes
      // tab, CR and LF).
      expect(encoded).not.toMatch(/[^\u0020-\uD7FF\uE000-\uFFFD]/);
      expect(JSON.parse(encoded)).toEqual(value);
    }
  });
});

describe("a conversation in every script", () => {
  it("gateway → queue → table → socket keeps each body exactly, emoji and flags included", async () => {
    const url = stack.gateways[0]!.url;
    const alice = await signup(url, "alice");
    const bob = await signup(url, "bob");
    const created = await api(url, "POST", "/api/conversations", { kind: "direct", userId: bob.userId }, alice.token);
    expect(created.status).toBe(201);
    const conversationId = created.body.conversation.conversationId as string;
    const a = await Client.connect(url, alice.token, { name: "alice" });
    const b = await Client.connect(url, bob.token, { name: "bob" });
    clients.push(a, b);

    const names = Object.keys(bodies);
    for (const name of names) {
      a.send({ type: "send", conversationId, clientMessageId: name, body: bodies[name] });
      const answer = await a.waitFor(
        (f) => (f.type === "accepted" || f.type === "error") && (f.clientMessageId ?? f.ref?.clientMessageId) === name,
        10_000,
        `answer to ${name}`,
      );
      expect({ name, answer: answer.type, error: answer.message }).toEqual({
        name,
        answer: "accepted",
        error: undefined,
      });
    }

    const received = await b.waitForMessages(conversationId, names.length, 30_000);
    const ddb = createDynamoClient(stack.aws);
    try {
      const db = { ddb, tables: tableNamesFor(LOCAL_PREFIX) };
      for (const m of received) {
        const sent = bodies[m.clientMessageId as string]!;
        expect({ id: m.clientMessageId, body: m.body }).toEqual({ id: m.clientMessageId, body: sent });
        const stored = await getMessage(db, conversationId, m.seq as number);
        expect(Buffer.from((stored as StoredMessage).body, "utf8").equals(Buffer.from(sent, "utf8"))).toBe(true);
      }
      // The conversation preview is cut at 120 UTF-16 units, never inside a surrogate pair.
      const summary = await getConversation(db, conversationId, true);
      expect(summary?.lastPreview).toBe(bodies.longest!.slice(0, 119));
      expect(summary?.lastPreview).not.toMatch(/[\uD800-\uDBFF]$/);
    } finally {
      ddb.destroy();
    }
    const history = await api(
      url,
      "GET",
      `/api/conversations/${conversationId}/messages?limit=100`,
      undefined,
      bob.token,
    );
    expect(
      history.body.messages.map((m: { clientMessageId: string; body: string }) => [m.clientMessageId, m.body]),
    ).toEqual(names.map((n) => [n, bodies[n]]));
  });
});
