/* eslint-disable @typescript-eslint/no-explicit-any -- JSON bodies of the API under test are checked by the assertions */
/**
 * Security suite against a real gateway process (plus emulators and persister): the handshake matrix, a
 * non-member's view of a conversation, size / rate / header / connection abuse with the process's health
 * measured, login throttling and the password policy — and, at the end, the logs of every process for
 * tokens, passwords and the signing secret.
 */
import { randomBytes } from "node:crypto";
import WebSocket from "ws";
import { closeCodes, env, WS_AUTH_PROTOCOL_PREFIX, WS_PROTOCOL } from "../../runtime/contracts";
import { startLocalStack, type LocalStack } from "../../runtime/local/stack";
import { api, Client, tryUpgrade as attemptUpgrade } from "../support/clients";
import { uniqueName, type TestUser } from "../support/users";
import { sleep, waitUntil } from "../support/timing";
import { rawRequest, rssKiB } from "./support/raw-http";
import { mintTokenMatrix, type TokenMatrix } from "./support/tokens";

jest.setTimeout(60_000);

const MAX_PAYLOAD = 8 * 1024;
const MAX_CONNECTIONS = 3;

let stack: LocalStack;
let base: string;
let port: number;
let secret: string;
type Account = TestUser & { password: string };
let alice: Account;
let bob: Account;
let mallory: Account;
let conversationId: string;
let tokens: TokenMatrix;
const passwords: string[] = [];
const issued: string[] = [];
const clients: Client[] = [];
const rawSockets: WebSocket[] = [];

const newPassword = () => {
  const p = `pw-${randomBytes(9).toString("base64url")}`;
  passwords.push(p);
  return p;
};

async function signupUser(stem: string, password = newPassword()): Promise<Account> {
  const r = await api(base, "POST", "/api/signup", { username: uniqueName(stem), password });
  if (r.status !== 201) throw new Error(`signup: ${r.status} ${JSON.stringify(r.body)}`);
  issued.push(r.body.token);
  return { userId: r.body.user.userId, token: r.body.token, password };
}

async function connect(u: TestUser): Promise<Client> {
  const c = await Client.connect(base, u.token, { name: u.userId });
  clients.push(c);
  return c;
}

/** Attempts an upgrade; returns the refusal's HTTP status and body, or status 101 with the chosen protocol. */
async function tryUpgrade(opts: {
  protocols?: string[];
  origin?: string | null;
  path?: string;
}): Promise<{ status: number; body?: any; protocol?: string }> {
  const { status, body, protocol } = await attemptUpgrade(base, opts);
  return status === 101 ? { status, protocol } : { status, body };
}

beforeAll(async () => {
  stack = await startLocalStack({
    gateways: 1,
    inMemory: true,
    gatewayEnv: {
      [env.maxPayloadBytes]: String(MAX_PAYLOAD),
      [env.maxConnectionsPerUser]: String(MAX_CONNECTIONS),
      // The most verbose level, so the log check below sees everything the gateway can write.
      [env.logLevel]: "debug",
    },
  });
  base = stack.url;
  port = stack.gateways[0]!.port;
  secret = stack.gatewayBaseEnv[env.jwtSecret]!;
  [alice, bob, mallory] = await Promise.all([signupUser("alice"), signupUser("bob"), signupUser("mallory")]);
  const c = await api(base, "POST", "/api/conversations", { kind: "direct", userId: bob.userId }, alice.token);
  expect(c.status).toBe(201);
  conversationId = c.body.conversation.conversationId;
  tokens = mintTokenMatrix(secret, alice.userId);
  issued.push(...Object.values(tokens));
}, 120_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  for (const ws of rawSockets) ws.terminate();
  await stack?.stop();
});

describe("handshake matrix: refused at the upgrade with an HTTP status", () => {
  const good = () => [WS_PROTOCOL, WS_AUTH_PROTOCOL_PREFIX + tokens.valid];

  test("control: a valid token from an allowed origin opens with subprotocol parley.v1", async () => {
    expect(await tryUpgrade({ protocols: good() })).toEqual({ status: 101, protocol: WS_PROTOCOL });
    expect(await tryUpgrade({ protocols: good(), origin: base.replace("127.0.0.1", "localhost") })).toMatchObject({
      status: 101,
    });
  });

  test.each([
    ["missing", null],
    ["foreign", "https://evil.example"],
    ["null (sandboxed iframe, file://)", "null"],
    ["look-alike host suffix", "http://127.0.0.1:PORT.evil.com"],
    ["look-alike with userinfo", "http://127.0.0.1:PORT@evil.com"],
    ["other scheme", "https://127.0.0.1:PORT"],
    ["other port", "http://127.0.0.1:1"],
    ["trailing path", "http://127.0.0.1:PORT/"],
    ["list of origins", "http://127.0.0.1:PORT, https://evil.example"],
  ])("Origin %s → 403", async (_name, origin) => {
    const r = await tryUpgrade({ protocols: good(), origin: origin && origin.replace("PORT", String(port)) });
    expect(r.status).toBe(403);
    expect(r.body).toEqual({ error: { code: "FORBIDDEN", message: expect.any(String) } });
  });

  test.each([
    ["missing (only parley.v1)", () => [WS_PROTOCOL]],
    ["without parley.v1", () => [WS_AUTH_PROTOCOL_PREFIX + tokens.valid]],
    ["expired", () => [WS_PROTOCOL, WS_AUTH_PROTOCOL_PREFIX + tokens.expired]],
    ["alg: none", () => [WS_PROTOCOL, WS_AUTH_PROTOCOL_PREFIX + tokens.algNone]],
    ["signed with another key", () => [WS_PROTOCOL, WS_AUTH_PROTOCOL_PREFIX + tokens.wrongKey]],
    ["wrong audience", () => [WS_PROTOCOL, WS_AUTH_PROTOCOL_PREFIX + tokens.wrongAudience]],
    ["wrong issuer", () => [WS_PROTOCOL, WS_AUTH_PROTOCOL_PREFIX + tokens.wrongIssuer]],
    ["HS512 instead of the pinned HS256", () => [WS_PROTOCOL, WS_AUTH_PROTOCOL_PREFIX + tokens.otherAlgorithm]],
    ["not yet valid (nbf)", () => [WS_PROTOCOL, WS_AUTH_PROTOCOL_PREFIX + tokens.notYetValid]],
    ["without exp", () => [WS_PROTOCOL, WS_AUTH_PROTOCOL_PREFIX + tokens.noExpiry]],
    ["malformed subject", () => [WS_PROTOCOL, WS_AUTH_PROTOCOL_PREFIX + tokens.badSubject]],
    ["payload swapped under a valid signature", () => [WS_PROTOCOL, WS_AUTH_PROTOCOL_PREFIX + tokens.tamperedPayload]],
    ["garbage", () => [WS_PROTOCOL, `${WS_AUTH_PROTOCOL_PREFIX}not.a.jwt`]],
    ["empty", () => [WS_PROTOCOL, WS_AUTH_PROTOCOL_PREFIX]],
  ])("token %s → 401", async (_name, protocols) => {
    const r = await tryUpgrade({ protocols: protocols() });
    expect(r.status).toBe(401);
    expect(r.body).toEqual({ error: { code: "UNAUTHENTICATED", message: expect.any(String) } });
  });

  test("a token in the query string is not accepted (it would land in access logs)", async () => {
    const r = await tryUpgrade({ protocols: [WS_PROTOCOL], path: `/ws?token=${tokens.valid}` });
    expect(r.status).toBe(401);
  });

  test("every token refusal reads the same, so a caller cannot tell which check failed", async () => {
    const bodies = await Promise.all(
      (["expired", "algNone", "wrongKey", "wrongAudience", "wrongIssuer"] as const).map(
        async (k) => (await tryUpgrade({ protocols: [WS_PROTOCOL, WS_AUTH_PROTOCOL_PREFIX + tokens[k]] })).body,
      ),
    );
    expect(new Set(bodies.map((b) => JSON.stringify(b))).size).toBe(1);
  });

  test("the same tokens are refused by the HTTP API with 401", async () => {
    for (const k of ["expired", "algNone", "wrongKey", "wrongAudience", "wrongIssuer", "tamperedPayload"] as const) {
      const r = await api(base, "GET", "/api/me", undefined, tokens[k]);
      expect({ k, status: r.status }).toEqual({ k, status: 401 });
    }
    expect((await api(base, "GET", "/api/me", undefined, tokens.valid)).status).toBe(200);
  });
});

describe("authorization: a non-member gets an error for every frame kind and API call", () => {
  test("every frame kind on someone else's conversation → NOT_MEMBER, and nothing leaks to the intruder", async () => {
    const [a, b, m] = await Promise.all([connect(alice), connect(bob), connect(mallory)]);
    const frames = [
      { type: "send", conversationId, clientMessageId: "intrude-1", body: "let me in" },
      { type: "sync", cursors: [{ conversationId, afterSeq: 0 }] },
      { type: "typing", conversationId },
      { type: "read", conversationId, seq: 1 },
    ];
    for (const f of frames) {
      const err = m.next((x) => x.type === "error" && x.ref?.type === f.type, 10_000, `error for ${f.type}`);
      m.send(f);
      expect(await err).toMatchObject({ type: "error", code: "NOT_MEMBER", ref: { type: f.type } });
    }
    // Members talk; the intruder sees none of it, and the members never saw the intruder.
    a.send({ type: "send", conversationId, clientMessageId: "private-1", body: "just us" });
    a.send({ type: "typing", conversationId });
    await b.waitForMessages(conversationId, 1);
    await sleep(500);
    expect(m.frames.filter((f) => (f as any).conversationId === conversationId && f.type !== "error")).toEqual([]);
    expect(b.frames.some((f) => (f as any).userId === mallory.userId)).toBe(false);
    expect(b.messages(conversationId).map((f) => f.clientMessageId)).toEqual(["private-1"]);
  });

  test("history of a conversation one is not in → 403, identical to one that does not exist", async () => {
    const path = (id: string) => `/api/conversations/${encodeURIComponent(id)}/messages`;
    const theirs = await api(base, "GET", path(conversationId), undefined, mallory.token);
    const none = await api(base, "GET", path("g:doesnotexist1234"), undefined, mallory.token);
    expect(theirs.status).toBe(403);
    expect(theirs.body.error.code).toBe("NOT_MEMBER");
    expect(none).toEqual(theirs);
    for (const q of ["?after=0", "?before=2", "?limit=100"]) {
      expect((await api(base, "GET", path(conversationId) + q, undefined, mallory.token)).status).toBe(403);
    }
    expect((await api(base, "GET", path(conversationId), undefined, bob.token)).status).toBe(200);
  });

  test("the conversation list and presence show a non-member nothing of it", async () => {
    const list = await api(base, "GET", "/api/conversations", undefined, mallory.token);
    expect(list.status).toBe(200);
    expect(list.body.conversations.map((c: any) => c.conversationId)).not.toContain(conversationId);
    const presence = await api(
      base,
      "GET",
      `/api/presence?userIds=${alice.userId},${bob.userId}`,
      undefined,
      mallory.token,
    );
    expect(presence.status).toBe(200);
    expect(presence.body.presence).toEqual([]);
  });

  test("every authenticated route refuses a missing or bad bearer token with 401", async () => {
    const routes: [string, string, unknown?][] = [
      ["GET", "/api/me"],
      ["GET", "/api/users?prefix=al"],
      ["GET", "/api/conversations"],
      ["POST", "/api/conversations", { kind: "direct", userId: bob.userId }],
      ["GET", `/api/conversations/${encodeURIComponent(conversationId)}/messages`],
      ["GET", `/api/presence?userIds=${alice.userId}`],
    ];
    for (const [method, path, body] of routes) {
      for (const token of [undefined, "nonsense", tokens.algNone]) {
        const r = await api(base, method, path, body, token);
        expect({ method, path, status: r.status }).toEqual({ method, path, status: 401 });
      }
    }
  });
});

describe("abuse limits", () => {
  test(`a frame above maxPayload (${MAX_PAYLOAD} B) closes the socket with 1009; one below is answered`, async () => {
    const c = await connect(alice);
    const below = c.next((f) => f.type === "error");
    c.send({ type: "send", conversationId, clientMessageId: "big", body: "x".repeat(MAX_PAYLOAD - 200) });
    expect(await below).toMatchObject({ code: "VALIDATION" });
    c.send("x".repeat(MAX_PAYLOAD + 1));
    expect(await c.closed()).toBe(closeCodes.tooBig);
  });

  test("a send flood gets RATE_LIMITED frames then a 1008 close; the process stays healthy", async () => {
    const pid = stack.gateways[0]!.process.child.pid!;
    const rssBefore = await rssKiB(pid);
    const c = await connect(bob);
    let maxHealthMs = 0;
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const t = Date.now();
        const r = await fetch(`${base}/healthz`);
        maxHealthMs = Math.max(maxHealthMs, Date.now() - t);
        expect(r.status).toBe(200);
        await sleep(50);
      }
    })();
    const started = Date.now();
    for (let i = 0; i < 3_000; i++) {
      if (c.ws.readyState !== WebSocket.OPEN) break;
      c.send({ type: "send", conversationId, clientMessageId: `flood-${i}`, body: `flood ${i}` });
    }
    expect(await c.closed(20_000)).toBe(closeCodes.policy);
    const elapsedS = (Date.now() - started) / 1000;
    polling = false;
    await poller;
    const limited = c.frames.filter((f) => f.type === "error" && f.code === "RATE_LIMITED").length;
    const accepted = c.frames.filter((f) => f.type === "accepted").length;
    expect(limited).toBeGreaterThan(0);
    // Default bucket: burst 40, 20 per second.
    expect(accepted).toBeLessThanOrEqual(40 + Math.ceil(20 * elapsedS) + 1);
    const rssAfter = await rssKiB(pid);
    console.log(
      `flood: ${accepted} accepted, ${limited} RATE_LIMITED, closed 1008 after ${elapsedS.toFixed(1)} s; healthz max ${maxHealthMs} ms; RSS ${rssBefore} → ${rssAfter} KiB`,
    );
    // Liveness, not latency: on a shared 2-core machine scheduling alone can take a second.
    expect(maxHealthMs).toBeLessThan(5_000);
    expect(rssAfter - rssBefore).toBeLessThan(100 * 1024);
    // Still serving: a fresh connection gets `ready` and can send.
    const again = await connect(bob);
    const ok = again.next((f) => f.type === "accepted");
    again.send({ type: "send", conversationId, clientMessageId: "after-flood", body: "still here" });
    await ok;
  });

  test("thousands of headers and a huge Sec-WebSocket-Protocol are refused without harm", async () => {
    const pid = stack.gateways[0]!.process.child.pid!;
    const manyHeaders = Array.from({ length: 5_000 }, (_, i) => `X-Junk-${i}: ${"v".repeat(8)}\r\n`).join("");
    const status1 = await rawRequest(port, `GET /healthz HTTP/1.1\r\nHost: x\r\n${manyHeaders}\r\n`);
    expect([400, 431, 0]).toContain(status1);
    const upgrade = (protocolHeader: string) =>
      "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      `Origin: ${base}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\n` +
      `Sec-WebSocket-Protocol: ${protocolHeader}\r\n\r\n`;
    // 1 MB in one header: beyond Node's header limit.
    expect([400, 431, 0]).toContain(await rawRequest(port, upgrade("p".repeat(1024 * 1024))));
    // 1,500 offered protocols within the limit, none of them a token: refused as unauthenticated.
    const many = Array.from({ length: 1_500 }, (_, i) => `p${i}`).join(",");
    expect(await rawRequest(port, upgrade(many))).toBe(401);
    // A token offered among 1,500 junk protocols still works or is refused cleanly — never a crash.
    const mixed = `${many},${WS_PROTOCOL},${WS_AUTH_PROTOCOL_PREFIX}${tokens.valid}`.slice(-14_000);
    expect([101, 400, 401, 431]).toContain(await rawRequest(port, upgrade(mixed)));
    // 50 at once.
    const burst = await Promise.all(
      Array.from({ length: 50 }, () => rawRequest(port, `GET /healthz HTTP/1.1\r\nHost: x\r\n${manyHeaders}\r\n`)),
    );
    expect(burst.every((s) => [400, 431, 0].includes(s))).toBe(true);
    expect(stack.gateways[0]!.process.child.pid).toBe(pid);
    expect(stack.gateways[0]!.process.child.exitCode).toBeNull();
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  test(`the per-user connection cap (${MAX_CONNECTIONS}) holds: the next one is closed with 4029`, async () => {
    const carol = await signupUser("carol");
    const open = [];
    for (let i = 0; i < MAX_CONNECTIONS; i++) open.push(await connect(carol));
    const extra: WebSocket = new WebSocket(
      base.replace(/^http/, "ws") + "/ws",
      [WS_PROTOCOL, WS_AUTH_PROTOCOL_PREFIX + carol.token],
      {
        origin: base,
      },
    );
    rawSockets.push(extra);
    const code = await new Promise<number>((resolve) => extra.on("close", (c) => resolve(c)));
    expect(code).toBe(closeCodes.tooManyConnections);
    await open[0]!.close();
    await sleep(300);
    const again = await connect(carol);
    expect(again.ready.type).toBe("ready");
  });

  test(`the per-user connection cap (${MAX_CONNECTIONS}) holds against 10 simultaneous connects`, async () => {
    const erin = await signupUser("erin");
    const attempt = () =>
      new Promise<string>((resolve) => {
        const ws = new WebSocket(
          base.replace(/^http/, "ws") + "/ws",
          [WS_PROTOCOL, WS_AUTH_PROTOCOL_PREFIX + erin.token],
          {
            origin: base,
          },
        );
        rawSockets.push(ws);
        const timer = setTimeout(() => resolve("timeout"), 10_000);
        const done = (outcome: string) => {
          clearTimeout(timer);
          resolve(outcome);
        };
        ws.on("message", (d) => {
          if (JSON.parse(d.toString()).type === "ready") done("ready");
        });
        ws.on("close", (c) => done(`closed ${c}`));
      });
    const outcomes = await Promise.all(Array.from({ length: 10 }, attempt));
    const live = outcomes.filter((o) => o === "ready").length;
    console.log(`connection cap race (cap ${MAX_CONNECTIONS}): ${live} ready; ${JSON.stringify(outcomes)}`);
    expect(live).toBeLessThanOrEqual(MAX_CONNECTIONS);
    expect(outcomes.filter((o) => o === `closed ${closeCodes.tooManyConnections}`)).toHaveLength(10 - live);
  });
});

describe("accounts", () => {
  test("login throttling: 5 failures lock the username (429 + Retry-After), even for the right password", async () => {
    const dave = await signupUser("dave");
    for (let i = 0; i < 5; i++) {
      const r = await api(base, "POST", "/api/login", { username: dave.userId, password: `wrong-${i}-password` });
      expect(r.status).toBe(401);
    }
    const res = await fetch(`${base}/api/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: dave.userId, password: dave.password }),
    });
    expect(res.status).toBe(429);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await res.json()).error.code).toBe("RATE_LIMITED");
    // Case changes do not escape the lock.
    expect(
      (await api(base, "POST", "/api/login", { username: dave.userId.toUpperCase(), password: dave.password })).status,
    ).toBe(429);
    // Another account is unaffected.
    const ok = await api(base, "POST", "/api/login", { username: alice.userId, password: alice.password });
    expect(ok.status).toBe(200);
    issued.push(ok.body.token);
  });

  test("password policy: 8–128 characters; usernames normalised, case-insensitively unique", async () => {
    const name = uniqueName("pol");
    const cases: [unknown, number][] = [
      [{ username: name, password: "short77" }, 400],
      [{ username: name, password: "x".repeat(129) }, 400],
      [{ username: name, password: "" }, 400],
      [{ username: name, password: 12345678 }, 400],
      [{ username: name }, 400],
      [{ username: "ab", password: newPassword() }, 400],
      [{ username: "no spaces!", password: newPassword() }, 400],
      [{ username: name, password: newPassword(), isAdmin: true }, 400],
    ];
    for (const [body, status] of cases) {
      const r = await api(base, "POST", "/api/signup", body);
      expect({ body, status: r.status, code: r.body?.error?.code }).toEqual({ body, status, code: "VALIDATION" });
    }
    const eight = await api(base, "POST", "/api/signup", { username: name.toUpperCase(), password: "12345678" });
    expect(eight.status).toBe(201);
    expect(eight.body.user.userId).toBe(name);
    issued.push(eight.body.token);
    passwords.push("12345678");
    const taken = await api(base, "POST", "/api/signup", { username: name, password: newPassword() });
    expect(taken.status).toBe(409);
    const long = await api(base, "POST", "/api/signup", {
      username: uniqueName("long"),
      password: newPassword() + "y".repeat(100),
    });
    expect(long.status).toBe(201);
    issued.push(long.body.token);
    // Responses never echo a password or a hash.
    expect(JSON.stringify(eight.body)).not.toMatch(/12345678|scrypt/);
  });
});

describe("at the end of the suite", () => {
  test("logs of every process during the suite contain no token, no password and no signing secret", async () => {
    await waitUntil(async () => stack.gateways.every((g) => g.process.output().length > 0));
    const logs = [...stack.gateways.map((g) => g.process.output()), stack.runner?.output() ?? ""].join("\n");
    expect(logs.length).toBeGreaterThan(0);
    const leaks: string[] = [];
    for (const t of issued) {
      if (logs.includes(t)) leaks.push(`token ${t.slice(0, 12)}…`);
      const sig = t.split(".")[2];
      if (sig && sig.length > 10 && logs.includes(sig)) leaks.push(`token signature ${sig.slice(0, 8)}…`);
    }
    for (const p of passwords) if (p.length >= 8 && logs.includes(p)) leaks.push(`password ${p.slice(0, 3)}…`);
    if (logs.includes(secret)) leaks.push("JWT secret");
    if (logs.includes(stack.gatewayBaseEnv[env.internalSecret]!)) leaks.push("internal secret");
    if (logs.includes(WS_AUTH_PROTOCOL_PREFIX + "ey")) leaks.push("auth subprotocol");
    expect(leaks).toEqual([]);
  });
});
