/**
 * Unit tests of the gateway's pure parts with injected fakes (clock, sockets, DynamoDB client); the behaviour
 * end to end is in the acceptance suites beside this file.
 */
import { EventEmitter, once } from "node:events";
import { createServer, type Server } from "node:http";
import type { GatewayConfig } from "../../runtime/contracts";
import { resolveAdvertiseHost } from "../../runtime/gateway/advertise";
import { httpTimeouts } from "../../runtime/gateway/http-timeouts";
import { deriveSettings, type GatewayContext } from "../../runtime/gateway/context";
import { ConnectionDirectory } from "../../runtime/gateway/delivery/directory";
import { secretMatches } from "../../runtime/gateway/delivery/internal";
import { INTERNAL_SECRET_HEADER } from "../../runtime/gateway/delivery/peer-protocol";
import { Router } from "../../runtime/gateway/delivery/routing";
import { parseFrame } from "../../runtime/gateway/frames";
import { TokenBucket } from "../../runtime/gateway/rate-limit";
import { LocalSessions, type LocalSession, type MessageRef } from "../../runtime/gateway/sessions";
import { LoginThrottle } from "../../runtime/gateway/throttle";
import { Session } from "../../runtime/gateway/ws-session";
import type { ConnectionItem } from "../../runtime/store/connections";
import { timing } from "../support/timing";

const silentLog = { debug() {}, info() {}, warn() {}, error() {}, child: () => silentLog } as never;

function fakeConfig(): GatewayConfig {
  return {
    aws: { region: "us-east-1" },
    tables: {
      users: "t-users",
      conversations: "t-conversations",
      memberships: "t-memberships",
      messages: "t-messages",
      connections: "t-connections",
      auth: "t-auth",
    },
    inboundQueueUrl: "http://q/inbound.fifo",
    notifyQueueUrl: "http://q/notify",
    port: 0,
    internalPort: 0,
    bindHost: "127.0.0.1",
    jwtSecret: "j".repeat(32),
    internalSecret: "s".repeat(32),
    jwtIssuer: "parley",
    jwtAudience: "parley-web",
    tokenTtlSeconds: 3600,
    allowedOrigins: ["http://localhost:1"],
    logLevel: "silent",
    albIdleTimeoutSeconds: 60,
    limits: {
      maxPayloadBytes: 65536,
      rateLimitPerSecond: 20,
      rateLimitBurst: 40,
      maxConnectionsPerUser: 10,
      heartbeatMs: 25_000,
      presenceTtlSeconds: 90,
    },
  };
}

/** A DynamoDB document client stand-in that records commands and answers from `reply`. */
function fakeDb(
  reply: (cmd: { constructor: { name: string }; input: Record<string, unknown> }) => unknown = () => ({}),
) {
  const sent: { name: string; input: Record<string, unknown> }[] = [];
  const ddb = {
    send: async (cmd: { constructor: { name: string }; input: Record<string, unknown> }) => {
      sent.push({ name: cmd.constructor.name, input: cmd.input });
      return reply(cmd);
    },
  };
  return { ddb, sent };
}

function fakeContext(ddb: unknown, gatewayId = "gw-a"): GatewayContext {
  const config = fakeConfig();
  return {
    config,
    settings: deriveSettings(config),
    gatewayId,
    internalUrl: "http://127.0.0.1:1",
    db: { ddb: ddb as never, tables: config.tables },
    sqs: {} as never,
    log: silentLog,
    tokens: {} as never,
    now: Date.now,
  };
}

describe("TokenBucket", () => {
  it("allows a burst, then refills at the rate", () => {
    let t = 0;
    const b = new TokenBucket(2, 3, () => t);
    expect([b.take(), b.take(), b.take(), b.take()]).toEqual([true, true, true, false]);
    t += 499;
    expect(b.take()).toBe(false);
    t += 1;
    expect(b.take()).toBe(true);
    t += 10_000;
    expect([b.take(), b.take(), b.take(), b.take()]).toEqual([true, true, true, false]);
  });
});

describe("LoginThrottle", () => {
  it("locks a key after maxFailures within the window, for lockMs; success clears it", () => {
    let t = 0;
    const th = new LoginThrottle({ maxFailures: 3, windowMs: 1000, lockMs: 500, maxKeys: 10 }, () => t);
    th.recordFailure("bob");
    th.recordFailure("bob");
    expect(th.retryAfterMs("bob")).toBe(0);
    th.recordFailure("bob");
    expect(th.retryAfterMs("bob")).toBe(500);
    expect(th.retryAfterMs("alice")).toBe(0);
    t += 500;
    expect(th.retryAfterMs("bob")).toBe(0);
    th.recordFailure("carol");
    th.recordFailure("carol");
    t += 2000; // window over: the count starts again
    th.recordFailure("carol");
    expect(th.retryAfterMs("carol")).toBe(0);
    th.recordSuccess("carol");
    th.recordFailure("carol");
    th.recordFailure("carol");
    expect(th.retryAfterMs("carol")).toBe(0);
  });

  it("keeps at most maxKeys keys", () => {
    const th = new LoginThrottle({ maxFailures: 1, windowMs: 1000, lockMs: 1000, maxKeys: 2 }, () => 0);
    th.recordFailure("a");
    th.recordFailure("b");
    th.recordFailure("c");
    expect([th.retryAfterMs("a"), th.retryAfterMs("b"), th.retryAfterMs("c")]).toEqual([0, 1000, 1000]);
  });
});

describe("parseFrame", () => {
  const codeOf = (raw: unknown) => {
    try {
      parseFrame(raw);
      return "ok";
    } catch (err) {
      return (err as { code: string }).code;
    }
  };

  it("separates unknown shapes (BAD_FRAME) from known frames with bad fields (VALIDATION)", () => {
    expect(codeOf([1])).toBe("BAD_FRAME");
    expect(codeOf("send")).toBe("BAD_FRAME");
    expect(codeOf({ type: "explode" })).toBe("BAD_FRAME");
    expect(codeOf({ type: "send", conversationId: "d:aaa:bbb", clientMessageId: "m 1", body: "x" })).toBe("VALIDATION");
    expect(codeOf({ type: "send", conversationId: "d:aaa:bbb", clientMessageId: "m1", body: "   " })).toBe(
      "VALIDATION",
    );
    expect(codeOf({ type: "send", conversationId: "d:aaa:bbb", clientMessageId: "m1", body: "hi" })).toBe("ok");
    expect(codeOf({ type: "read", conversationId: "g:abcdefgh12", seq: 3 })).toBe("ok");
  });
});

describe("secretMatches", () => {
  it("compares the internal secret exactly", () => {
    expect(secretMatches("s".repeat(32), "s".repeat(32))).toBe(true);
    expect(secretMatches("s".repeat(31), "s".repeat(32))).toBe(false);
    expect(secretMatches(undefined, "s".repeat(32))).toBe(false);
    expect(secretMatches(["s".repeat(32)], "s".repeat(32))).toBe(false);
  });
});

describe("resolveAdvertiseHost", () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

  async function metadata(body: unknown): Promise<string> {
    server = createServer((req, res) => {
      if (req.url !== "/v4/abc/task") return void res.writeHead(404).end();
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    return `http://127.0.0.1:${(server.address() as { port: number }).port}/v4/abc`;
  }

  it("prefers the configured host, then the ECS task's private IP, then loopback", async () => {
    const uri = await metadata({ Containers: [{ Networks: [{ IPv4Addresses: ["10.0.3.7"] }] }] });
    expect(await resolveAdvertiseHost("gw.internal", { ECS_CONTAINER_METADATA_URI_V4: uri })).toBe("gw.internal");
    expect(await resolveAdvertiseHost(undefined, { ECS_CONTAINER_METADATA_URI_V4: uri }, timing.ms(15_000))).toBe(
      "10.0.3.7",
    );
    expect(await resolveAdvertiseHost(undefined, {})).toBe("127.0.0.1");
  });

  it("fails loudly when the metadata has no address", async () => {
    const uri = await metadata({ Containers: [] });
    await expect(
      resolveAdvertiseHost(undefined, { ECS_CONTAINER_METADATA_URI_V4: uri }, timing.ms(15_000)),
    ).rejects.toThrow(/IPv4Addresses/);
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

/** Just enough of a ws WebSocket for Session. */
class FakeSocket extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  readonly sent: string[] = [];
  closedWith?: number;
  send(text: string) {
    this.sent.push(text);
  }
  close(code: number) {
    this.closedWith = code;
  }
  terminated = false;
  pings = 0;
  terminate() {
    this.terminated = true;
  }
  ping() {
    this.pings++;
  }
}

describe("Session outgoing order", () => {
  const conv = "d:alice:bob1";
  const stored = (seq: number) => ({
    conversationId: conv,
    seq,
    senderId: "alice",
    clientMessageId: `m${seq}`,
    body: `b${seq}`,
    sentAt: 1,
    storedAt: Date.now(),
  });

  function session(table: number[]) {
    const { ddb, sent } = fakeDb((cmd) => {
      if (cmd.constructor.name !== "QueryCommand") return {};
      const values = cmd.input.ExpressionAttributeValues as Record<string, number>;
      const forward = cmd.input.ScanIndexForward !== false;
      let items = table.filter((s) => (values[":after"] !== undefined ? s > values[":after"] : true));
      if (values[":before"] !== undefined) items = items.filter((s) => s < values[":before"]!);
      if (!forward) items = items.reverse();
      return { Items: items.slice(0, cmd.input.Limit as number).map(stored) };
    });
    const ws = new FakeSocket();
    const ctx = fakeContext(ddb);
    const s = new Session(ctx, {} as never, ws as never, "bob1", Math.floor(Date.now() / 1000) + 3600);
    return { s, ws, sent };
  }
  const seqsSent = (ws: FakeSocket) => ws.sent.map((t) => JSON.parse(t).seq);
  const settle = () => new Promise((r) => setTimeout(r, 20));

  it("fills a gap from the table and drops repeats", async () => {
    const { s, ws } = session([1, 2, 3, 4]);
    s.pushMessage({ conversationId: conv, seq: 1 }, JSON.stringify(stored(1)));
    s.pushMessage({ conversationId: conv, seq: 3 }, JSON.stringify(stored(3))); // 2 overtaken
    s.pushMessage({ conversationId: conv, seq: 2 }, JSON.stringify(stored(2))); // late: already filled
    s.pushMessage({ conversationId: conv, seq: 4 }, JSON.stringify(stored(4)));
    s.pushMessage({ conversationId: conv, seq: 4 }, JSON.stringify(stored(4))); // redelivered notification
    await settle();
    expect(seqsSent(ws)).toEqual([1, 2, 3, 4]);
  });

  it("retries a gap fill that finds a hole (eventually consistent reads) instead of skipping the seq", async () => {
    const table = [1, 3];
    const { s, ws, sent } = session(table);
    s.pushMessage({ conversationId: conv, seq: 1 }, JSON.stringify(stored(1)));
    s.pushMessage({ conversationId: conv, seq: 4 }, JSON.stringify(stored(4)));
    await settle();
    table.splice(1, 0, 2); // seq 2 becomes visible to reads
    await new Promise((r) => setTimeout(r, 400));
    expect(seqsSent(ws)).toEqual([1, 2, 3, 4]);
    expect(sent.filter((c) => c.name === "QueryCommand").length).toBeGreaterThanOrEqual(2);
  });

  it("without a cursor, first sends what was stored since the socket opened", async () => {
    const { s, ws } = session([1, 2, 3]);
    s.pushMessage({ conversationId: conv, seq: 3 }, JSON.stringify(stored(3)));
    s.pushMessage({ conversationId: conv, seq: 2 }, JSON.stringify(stored(2)));
    await settle();
    expect(seqsSent(ws)).toEqual([1, 2, 3]);
  });

  it("closes a slow consumer with 4008 instead of buffering without bound", () => {
    const { s, ws } = session([]);
    ws.bufferedAmount = 10 * 1024 * 1024;
    s.push("{}");
    expect(ws.closedWith).toBe(4008);
    expect(ws.sent).toEqual([]);
  });

  it("terminates a peer that did not answer the previous ping", () => {
    const { s, ws } = session([]);
    s.heartbeat();
    ws.emit("pong");
    s.heartbeat();
    expect([ws.pings, ws.terminated]).toEqual([2, false]);
    s.heartbeat(); // no pong since the last ping
    expect(ws.terminated).toBe(true);
  });
});

describe("httpTimeouts", () => {
  test("keep-alive outlives the ALB idle timeout by 5 s, headers and request timeouts above it (else intermittent 502s)", () => {
    const t = httpTimeouts(120);
    expect(t.keepAliveTimeoutMs).toBe(125_000);
    expect(t.headersTimeoutMs).toBeGreaterThan(t.keepAliveTimeoutMs);
    expect(t.requestTimeoutMs).toBeGreaterThanOrEqual(t.headersTimeoutMs);
  });

  test("without a load balancer (local) the ALB default of 60 s applies: keep-alive 65 s, request timeout 30 s at least", () => {
    const t = httpTimeouts(60);
    expect(t.keepAliveTimeoutMs).toBe(65_000);
    expect(t.requestTimeoutMs).toBeGreaterThanOrEqual(30_000);
  });
});
