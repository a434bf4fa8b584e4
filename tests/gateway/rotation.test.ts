/**
 * A secret rotation in the middle of a rolling deploy: gateway A started after the rotation (current = new,
 * previous = old), gateway B before it (old). Real gateway processes, emulators and persister. B consumes no
 * notifications, so every stored message reaches B's sockets through A's internal delivery (A → B), and B's
 * typing frames reach A's sockets through B's (B → A).
 */
import { randomBytes } from "node:crypto";
import { env, tableNamesFor } from "../../runtime/contracts";
import { createDynamoClient } from "../../runtime/aws/clients";
import { freePort } from "../../runtime/local/emulators";
import { LOCAL_PREFIX, startLocalStack, type LocalStack } from "../../runtime/local/stack";
import { getConnections } from "../../runtime/store/connections";
import { api, Client } from "../support/clients";
import { signup } from "../support/users";
import { startTestGateway, stopTestGateway, type TestGateway } from "./support/settings-gateway";

jest.setTimeout(90_000);

const secret = () => randomBytes(32).toString("base64url");
const oldJwt = secret();
const newJwt = secret();
const oldInternal = secret();
const newInternal = secret();
const previousUntil = Date.now() + 3_600_000;

let stack: LocalStack;
let a: TestGateway;
let b: TestGateway;
const clients: Client[] = [];

beforeAll(async () => {
  stack = await startLocalStack({ gateways: 0, inMemory: true });
  const [portA, portB] = [await freePort(), await freePort()];
  const origins = `http://127.0.0.1:${portA},http://127.0.0.1:${portB}`;
  const rotated = (current: string, previous: string) => JSON.stringify({ current, previous, previousUntil });
  a = await startTestGateway(stack, "gw-rotated", {
    port: portA,
    env: {
      [env.allowedOrigins]: origins,
      [env.jwtSecret]: rotated(newJwt, oldJwt),
      [env.internalSecret]: rotated(newInternal, oldInternal),
    },
  });
  b = await startTestGateway(stack, "gw-before-rotation", {
    port: portB,
    env: {
      [env.allowedOrigins]: origins,
      // The internal secret as a task started before the rotation holds it; the JWT secret staged first (the
      // documented two-step rotation), so tokens A signs with the new value are accepted here too.
      [env.jwtSecret]: JSON.stringify({ current: oldJwt, next: newJwt }),
      [env.internalSecret]: oldInternal,
    },
    // No notifications, no catch-up from the table: only live delivery from A brings B's sockets their messages.
    settings: { notifyReceivers: 0, catchUpMarginMs: 600_000 },
  });
}, 120_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all([a, b].filter(Boolean).map(stopTestGateway));
  await stack?.stop();
});

async function connectionsExist(connectionIds: string[]): Promise<string[]> {
  const ddb = createDynamoClient(stack.aws);
  try {
    const found = await getConnections({ ddb, tables: tableNamesFor(LOCAL_PREFIX) }, connectionIds, true);
    return found.map((c) => c.connectionId).sort();
  } finally {
    ddb.destroy();
  }
}

describe("gateways holding rotated secrets (A: current new, previous old; B: old)", () => {
  it("deliver to each other's sockets, accept each other's tokens and delete no connection records", async () => {
    // Alice's token is signed by B with the old secret, Bob's by A with the new one.
    const alice = await signup(b.url, "alice");
    const bob = await signup(a.url, "bob");
    expect((await api(a.url, "GET", "/api/me", undefined, alice.token)).status).toBe(200);
    expect((await api(b.url, "GET", "/api/me", undefined, bob.token)).status).toBe(200);

    const onA = await Client.connect(a.url, alice.token, { name: "alice@A" });
    const onB = await Client.connect(b.url, bob.token, { name: "bob@B" });
    clients.push(onA, onB);
    const r = await api(a.url, "POST", "/api/conversations", { kind: "direct", userId: bob.userId }, alice.token);
    expect(r.status).toBe(201);
    const id: string = r.body.conversation.conversationId;

    // A → B: A routes every notification; Bob's socket is on B, whose internal secret is the old one.
    onA.send({ type: "send", conversationId: id, clientMessageId: "m1", body: "across the rotation" });
    onB.send({ type: "send", conversationId: id, clientMessageId: "m2", body: "and back" });
    expect((await onB.waitForMessages(id, 2)).map((m) => m.seq)).toEqual([1, 2]);
    expect((await onA.waitForMessages(id, 2)).map((m) => m.seq)).toEqual([1, 2]);

    // B → A: B routes Bob's typing to Alice's socket on A with the old internal secret.
    onB.send({ type: "typing", conversationId: id });
    await onA.waitFor((f) => f.type === "typing" && f.userId === bob.userId);

    const ids = [onA.ready.connectionId, onB.ready.connectionId].sort();
    expect(await connectionsExist(ids)).toEqual(ids);
    expect(onA.closeCode).toBeUndefined();
    expect(onB.closeCode).toBeUndefined();
    for (const g of [a, b]) {
      expect(g.output).not.toMatch(/removing its records|refused our internal secret/);
      // Neither value of either secret ever reaches a log line.
      for (const s of [oldJwt, newJwt, oldInternal, newInternal]) expect(g.output).not.toContain(s);
    }
  });
});
