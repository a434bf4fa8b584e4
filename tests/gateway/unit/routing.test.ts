/**
 * Unit tests of delivery between gateways: the internal secret check, and routing to connections (local push,
 * one forward per peer gateway, stale records removed) against peer servers on port 0.
 */
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import { ConnectionDirectory } from "../../../runtime/gateway/delivery/directory";
import { secretMatches } from "../../../runtime/gateway/delivery/internal";
import { INTERNAL_SECRET_HEADER } from "../../../runtime/gateway/delivery/peer-protocol";
import { Router } from "../../../runtime/gateway/delivery/routing";
import { LocalSessions, type LocalSession, type MessageRef } from "../../../runtime/gateway/sessions";
import type { ConnectionItem } from "../../../runtime/store/connections";
import { fakeContext, fakeDb } from "./fakes";

describe("secretMatches", () => {
  it("compares the internal secret exactly", () => {
    expect(secretMatches("s".repeat(32), "s".repeat(32))).toBe(true);
    expect(secretMatches("s".repeat(31), "s".repeat(32))).toBe(false);
    expect(secretMatches(undefined, "s".repeat(32))).toBe(false);
    expect(secretMatches(["s".repeat(32)], "s".repeat(32))).toBe(false);
  });
});

function record(connectionId: string, userId: string, gatewayId: string, internalUrl: string): ConnectionItem {
  return { connectionId, userId, gatewayId, internalUrl, connectedAt: 0, lastSeen: 0, expiresAt: 2 ** 40 };
}

class RecordingSession implements LocalSession {
  readonly pushed: string[] = [];
  readonly connectedAt = 0;
  constructor(
    readonly connectionId: string,
    readonly userId: string,
  ) {}
  push(text: string) {
    this.pushed.push(text);
  }
  pushMessage(_ref: MessageRef, text: string) {
    this.pushed.push(text);
  }
  close() {}
}

describe("Router.routeToConnections", () => {
  const peers: Server[] = [];
  afterEach(async () => {
    await Promise.all(peers.splice(0).map((p) => new Promise((r) => p.close(r))));
  });

  async function peer(handler: (body: { deliveries: { frame: string; connectionIds: string[] }[] }) => unknown) {
    const requests: { secret: unknown; body: { deliveries: { frame: string; connectionIds: string[] }[] } }[] = [];
    const server = createServer(async (req, res) => {
      let text = "";
      for await (const c of req) text += c;
      const body = JSON.parse(text);
      requests.push({ secret: req.headers[INTERNAL_SECRET_HEADER], body });
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(handler(body)));
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    peers.push(server);
    return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, requests };
  }

  it("pushes locally once per connection and forwards the rest in one request per gateway", async () => {
    const { ddb, sent } = fakeDb();
    const ctx = fakeContext(ddb);
    const sessions = new LocalSessions();
    const local = new RecordingSession("c-local", "alice");
    sessions.add(local);
    const b = await peer(() => ({ missing: ["c-gone"] }));
    const c = await peer(() => ({ missing: [] }));
    const removed: string[][] = [];
    const router = new Router(ctx, sessions, new ConnectionDirectory(ctx), {
      onRecordsRemoved: (u) => removed.push(u),
    });
    const conns = [
      record("c-local", "alice", "gw-a", ctx.internalUrl),
      record("c-local", "alice", "gw-a", ctx.internalUrl), // listed twice: delivered once
      record("c-b1", "bob", "gw-b", b.url),
      record("c-b2", "bob", "gw-b", b.url),
      record("c-gone", "dan", "gw-b", b.url),
      record("c-c1", "carol", "gw-c", c.url),
    ];
    const stats = await router.routeToConnections([
      { frame: "F1", message: { conversationId: "g:abcdefgh12", seq: 1 }, connections: conns },
      { frame: "F2", message: { conversationId: "g:abcdefgh12", seq: 2 }, connections: conns },
    ]);
    expect(local.pushed).toEqual(["F1", "F2"]);
    expect(b.requests).toHaveLength(1);
    expect(b.requests[0]!.secret).toBe(ctx.config.internalSecret);
    expect(b.requests[0]!.body.deliveries).toEqual([
      { frame: "F1", connectionIds: ["c-b1", "c-b2", "c-gone"], message: { conversationId: "g:abcdefgh12", seq: 1 } },
      { frame: "F2", connectionIds: ["c-b1", "c-b2", "c-gone"], message: { conversationId: "g:abcdefgh12", seq: 2 } },
    ]);
    expect(c.requests).toHaveLength(1);
    // The peer did not know c-gone: its record is deleted and presence is told.
    const deletes = sent.filter((s) => s.name === "BatchWriteCommand");
    expect(JSON.stringify(deletes)).toContain("c-gone");
    expect(removed).toEqual([["dan"]]);
    expect(stats).toMatchObject({ local: 2, removed: 1 });
  });

  it("removes the records of a gateway that does not answer", async () => {
    const { ddb, sent } = fakeDb();
    const ctx = fakeContext(ddb);
    const router = new Router(ctx, new LocalSessions(), new ConnectionDirectory(ctx));
    const dead = "http://127.0.0.1:9"; // discard port: connection refused
    await router.routeToConnections([{ frame: "F", connections: [record("c-x", "xavier", "gw-dead", dead)] }]);
    expect(JSON.stringify(sent.filter((s) => s.name === "BatchWriteCommand"))).toContain("c-x");
  });
});
