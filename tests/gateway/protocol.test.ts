/**
 * The edges of the protocol against one real gateway process: upgrade refusals, malformed and oversize frames,
 * non-members, rate limits, the connection cap, token expiry, HTTP validation and auth, static hosting, logs.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import WebSocket from "ws";
import {
  closeCodes,
  env,
  loadGatewayConfig,
  tableNamesFor,
  WS_AUTH_PROTOCOL_PREFIX,
  WS_PROTOCOL,
} from "../../runtime/contracts";
import { createDynamoClient } from "../../runtime/aws/clients";
import { LOCAL_PREFIX } from "../../runtime/local/stack";
import { listConnectionsByUser } from "../../runtime/store/connections";
import { deriveSettings } from "../../runtime/gateway/context";
import { startLocalStack, type LocalStack } from "../../runtime/local/stack";
import { api, Client, tryUpgrade } from "../support/clients";
import { mintToken, signup, uniqueName, type TestUser } from "../support/users";
import { sleep, timing, waitUntil } from "../support/timing";

jest.setTimeout(30_000);

let stack: LocalStack;
let webDir: string;
let base: string;
let secret: string;
const issuedTokens: string[] = [];
const clients: Client[] = [];
const PASSWORD = "a perfectly good passphrase";

async function user(stem: string): Promise<TestUser> {
  const u = await signup(base, stem, PASSWORD);
  issuedTokens.push(u.token);
  return u;
}

async function connect(u: TestUser, name = u.userId): Promise<Client> {
  const c = await Client.connect(base, u.token, { name });
  clients.push(c);
  return c;
}

/** Attempts an upgrade and returns the HTTP status it was refused with (0 if it was accepted). */
async function upgradeStatus(opts: { protocols?: string[]; origin?: string | null; path?: string }): Promise<number> {
  const { status } = await tryUpgrade(base, opts);
  return status === 101 ? 0 : status;
}

beforeAll(async () => {
  webDir = mkdtempSync(path.join(tmpdir(), "parley-web-"));
  mkdirSync(path.join(webDir, "assets"));
  writeFileSync(path.join(webDir, "index.html"), "<!doctype html><title>Parley</title>");
  writeFileSync(path.join(webDir, "assets", "app.js"), "console.log('parley')");
  stack = await startLocalStack({ gateways: 1, inMemory: true, gatewayEnv: { [env.webDir]: webDir } });
  base = stack.url;
  secret = stack.gatewayBaseEnv[env.jwtSecret]!;
}, 120_000);

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  await stack?.stop();
  rmSync(webDir, { recursive: true, force: true });
});

describe("WebSocket upgrade", () => {
  it("answers with the parley.v1 subprotocol when the token and origin are good", async () => {
    const u = await user("up");
    const c = await connect(u);
    expect(c.ws.protocol).toBe(WS_PROTOCOL);
    expect(c.ready).toMatchObject({ type: "ready", userId: u.userId, gatewayId: "gw-1", heartbeatMs: 25_000 });
  });

  it("refuses bad or missing tokens with 401 and foreign or missing origins with 403, before the upgrade", async () => {
    const u = await user("rf");
    const good = [WS_PROTOCOL, WS_AUTH_PROTOCOL_PREFIX + u.token];
    const auth = (t: string) => [WS_PROTOCOL, WS_AUTH_PROTOCOL_PREFIX + t];
    expect(await upgradeStatus({ protocols: [WS_PROTOCOL] })).toBe(401);
    expect(await upgradeStatus({ protocols: [] })).toBe(401);
    expect(await upgradeStatus({ protocols: [WS_AUTH_PROTOCOL_PREFIX + u.token] })).toBe(401); // no parley.v1
    expect(await upgradeStatus({ protocols: auth("not.a.jwt") })).toBe(401);
    expect(await upgradeStatus({ protocols: auth(mintToken("x".repeat(40), u.userId)) })).toBe(401); // other key
    expect(await upgradeStatus({ protocols: auth(mintToken(secret, u.userId, { expSeconds: -10 })) })).toBe(401);
    expect(await upgradeStatus({ protocols: auth(mintToken(secret, u.userId, { aud: "someone-else" })) })).toBe(401);
    expect(await upgradeStatus({ protocols: good, origin: "https://evil.example" })).toBe(403);
    expect(await upgradeStatus({ protocols: good, origin: null })).toBe(403);
    expect(await upgradeStatus({ protocols: good, path: "/elsewhere" })).toBe(404);
    expect(await upgradeStatus({ protocols: good })).toBe(0);
  });

  it("closes with 4001 when the token expires while connected", async () => {
    const u = await user("ex");
    const c = await Client.connect(base, mintToken(secret, u.userId, { expSeconds: 2 }), { name: "expiring" });
    clients.push(c);
    expect(await c.closed(6_000)).toBe(closeCodes.authExpired);
  });
});

describe("frames", () => {
  it("answers malformed frames with BAD_FRAME or VALIDATION and keeps the connection usable", async () => {
    const u = await user("mf");
    const c = await connect(u);
    const cases: [unknown, string][] = [
      ["not json", "BAD_FRAME"],
      ["[1,2]", "BAD_FRAME"],
      ["null", "BAD_FRAME"],
      [{ type: "teleport" }, "BAD_FRAME"],
      [{ no: "type" }, "BAD_FRAME"],
      [{ type: "send" }, "VALIDATION"],
      [{ type: "send", conversationId: "d:a:b", clientMessageId: "x", body: "hi" }, "VALIDATION"],
      [{ type: "sync", cursors: "all" }, "VALIDATION"],
      [{ type: "read", conversationId: `d:${u.userId}:zzz`, seq: -1 }, "VALIDATION"],
      [{ type: "ping", extra: 1 }, "VALIDATION"],
    ];
    for (const [frame, code] of cases) {
      const err = c.next((f) => f.type === "error");
      c.send(frame);
      expect((await err).code).toBe(code);
      const pong = c.next((f) => f.type === "pong");
      c.send({ type: "ping" });
      await pong;
    }
    const tooLong = c.next((f) => f.type === "error");
    c.send({ type: "send", conversationId: `d:${u.userId}:zzz`, clientMessageId: "long-1", body: "x".repeat(4001) });
    expect(await tooLong).toMatchObject({ code: "VALIDATION", ref: { type: "send", clientMessageId: "long-1" } });
    const binary = c.next((f) => f.type === "error");
    c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect((await binary).code).toBe("BAD_FRAME");
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
  });

  it("closes an oversize frame with 1009", async () => {
    const u = await user("big");
    const c = await connect(u);
    c.send({ type: "ping", pad: "x".repeat(70 * 1024) });
    expect(await c.closed()).toBe(closeCodes.tooBig);
  });

  it("gives a non-member an error code for every frame kind and HTTP call on the conversation", async () => {
    const [alice, bob, eve] = [await user("nma"), await user("nmb"), await user("nme")];
    const id = (await api(base, "POST", "/api/conversations", { kind: "direct", userId: bob.userId }, alice.token)).body
      .conversation.conversationId as string;
    const e = await connect(eve);
    const frames = [
      { type: "send", conversationId: id, clientMessageId: "sneak", body: "hi" },
      { type: "sync", cursors: [{ conversationId: id, afterSeq: 0 }] },
      { type: "typing", conversationId: id },
      { type: "read", conversationId: id, seq: 1 },
    ];
    for (const f of frames) {
      const err = e.next((x) => x.type === "error");
      e.send(f);
      expect(await err).toMatchObject({ code: "NOT_MEMBER", ref: { type: f.type, conversationId: id } });
    }
    // a conversation that does not exist looks the same as one you are not in
    const ghost = e.next((x) => x.type === "error");
    e.send({ type: "typing", conversationId: "g:doesnotexist1" });
    expect((await ghost).code).toBe("NOT_MEMBER");
    const synced = await e.waitFor((x) => x.type === "synced");
    expect(synced.cursors).toEqual([]);

    const history = await api(base, "GET", `/api/conversations/${id}/messages`, undefined, eve.token);
    expect(history.status).toBe(403);
    expect(history.body.error.code).toBe("NOT_MEMBER");
    const list = await api(base, "GET", "/api/conversations", undefined, eve.token);
    expect(list.body.conversations).toEqual([]);
    const presence = await api(base, "GET", `/api/presence?userIds=${alice.userId}`, undefined, eve.token);
    expect(presence.body.presence).toEqual([]);
    expect(e.frames.filter((f) => f.type === "accepted")).toEqual([]);
  });

  it("rate-limits with RATE_LIMITED frames and closes with 1008 after repeated violations", async () => {
    // The contract (docs/protocol.md, "Rate limit and the 1008 close"), from the limits this gateway runs with:
    // every frame received before the close decision is answered, in the order sent, then the socket closes
    // with 1008; the violation that decides it and every later frame get no answer.
    const config = loadGatewayConfig(stack.gatewayBaseEnv);
    const { rateLimitBurst: burst, rateLimitPerSecond: rate } = config.limits;
    const { maxRateViolations } = deriveSettings(config);
    const [u, peer] = [await user("rl"), await user("rlp")];
    const conversationId = (
      await api(base, "POST", "/api/conversations", { kind: "direct", userId: peer.userId }, u.token)
    ).body.conversation.conversationId as string;
    const c = await connect(u);
    // Pings (answered at once) alternate with sends (answered after the SQS round trip), so an answer that
    // overtook or replaced another shows as a mismatch at its position.
    const sent = Array.from({ length: burst + maxRateViolations + 20 }, (_, i) =>
      i % 2 ? { type: "send", conversationId, clientMessageId: `rl-${i}`, body: `m ${i}` } : { type: "ping" },
    );
    const answered = (f: (typeof sent)[number]) =>
      f.type === "ping" ? { type: "pong" } : { type: "accepted", conversationId, clientMessageId: f.clientMessageId };
    const limited = (f: (typeof sent)[number]) => ({
      type: "error",
      code: "RATE_LIMITED",
      message: expect.any(String),
      ref: f.type === "ping" ? { type: "ping" } : { type: "send", conversationId, clientMessageId: f.clientMessageId },
    });
    const started = Date.now();
    for (const f of sent) c.send(f);
    expect(await c.closed(timing.ms(20_000))).toBe(closeCodes.policy);
    const elapsedS = (Date.now() - started) / 1000;

    // Live `message` frames of the stored sends are not answers; everything else after `ready` is.
    const answers = c.frames.filter((f) => ["pong", "accepted", "error"].includes(f.type));
    const refused = answers.flatMap((a, i) => (a.type === "error" && a.code === "RATE_LIMITED" ? [i] : []));
    // The first `burst` frames find tokens; more only as the bucket refills while the frames arrive.
    expect(refused).toHaveLength(maxRateViolations);
    expect(refused[0]).toBeGreaterThanOrEqual(burst);
    expect(answers.length - maxRateViolations).toBeLessThanOrEqual(burst + Math.ceil(rate * elapsedS) + 1);
    // Frame `answers.length` was the deciding violation: it and the rest were not answered.
    expect(answers.length).toBeLessThan(sent.length);
    expect(answers).toEqual(
      sent.slice(0, answers.length).map((f, i) => (refused.includes(i) ? limited(f) : answered(f))),
    );
  });

  it("caps connections per user: the 11th is closed with 4029", async () => {
    const u = await user("cap");
    for (let i = 0; i < 10; i++) await connect(u, `cap-${i}`);
    const ws = new WebSocket(base.replace(/^http/, "ws") + "/ws", [WS_PROTOCOL, WS_AUTH_PROTOCOL_PREFIX + u.token], {
      origin: base,
    });
    const [code] = await new Promise<[number]>((resolve) => ws.on("close", (c) => resolve([c])));
    expect(code).toBe(closeCodes.tooManyConnections);
    // The refused connection's record (written beside the cap check) is gone again: ten remain.
    const ddb = createDynamoClient(stack.aws);
    try {
      const db = { ddb, tables: tableNamesFor(LOCAL_PREFIX) };
      await waitUntil(async () => (await listConnectionsByUser(db, u.userId)).length === 10, {
        what: "ten connection records",
      });
      await sleep(300);
      expect(await listConnectionsByUser(db, u.userId)).toHaveLength(10);
    } finally {
      ddb.destroy();
    }
  });
});

describe("HTTP API", () => {
  it("validates signup input with 400s and a message, and refuses a taken name with 409", async () => {
    const name = uniqueName("sv");
    const bad = [
      { username: name, password: "short" },
      { username: name, password: "x".repeat(129) },
      { username: "no spaces allowed", password: PASSWORD },
      { username: "ab", password: PASSWORD },
      { username: name },
      { username: name, password: PASSWORD, admin: true },
    ];
    for (const body of bad) {
      const r = await api(base, "POST", "/api/signup", body);
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe("VALIDATION");
      expect(r.body.error.message).toEqual(expect.any(String));
    }
    const ok = await api(base, "POST", "/api/signup", { username: name.toUpperCase(), password: PASSWORD });
    expect(ok.status).toBe(201);
    expect(ok.body.user).toEqual({ userId: name, displayName: name.toUpperCase().toLowerCase() });
    issuedTokens.push(ok.body.token);
    const taken = await api(base, "POST", "/api/signup", { username: name, password: PASSWORD });
    expect(taken.status).toBe(409);
  });

  it("logs in, refuses wrong passwords with 401 and throttles repeated failures with 429", async () => {
    const u = await user("lg");
    const ok = await api(base, "POST", "/api/login", { username: u.userId, password: PASSWORD });
    expect(ok.status).toBe(200);
    issuedTokens.push(ok.body.token);
    expect((await api(base, "GET", "/api/me", undefined, ok.body.token)).body.user.userId).toBe(u.userId);
    const unknown = await api(base, "POST", "/api/login", { username: "nobody_here", password: PASSWORD });
    expect(unknown.status).toBe(401);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      statuses.push((await api(base, "POST", "/api/login", { username: u.userId, password: "wrong password" })).status);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    // locked even with the right password until the lock expires
    expect((await api(base, "POST", "/api/login", { username: u.userId, password: PASSWORD })).status).toBe(429);
  }, 60_000);

  it("requires a valid bearer token, JSON bodies within the limit, and answers unknown routes with 404", async () => {
    const u = await user("hv");
    expect((await api(base, "GET", "/api/conversations")).status).toBe(401);
    expect((await api(base, "GET", "/api/me", undefined, "garbage")).status).toBe(401);
    const raw = (init: RequestInit) => fetch(base + "/api/conversations", init);
    const auth = { authorization: `Bearer ${u.token}` };
    expect((await raw({ method: "POST", headers: auth, body: "kind=direct" })).status).toBe(415);
    const badJson = await raw({ method: "POST", headers: { ...auth, "content-type": "application/json" }, body: "{" });
    expect(badJson.status).toBe(400);
    const huge = await raw({
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ kind: "group", title: "x".repeat(100_000), memberIds: [] }),
    });
    expect(huge.status).toBe(413);
    const self = await api(base, "POST", "/api/conversations", { kind: "direct", userId: u.userId }, u.token);
    expect(self.status).toBe(400);
    const nobody = await api(base, "POST", "/api/conversations", { kind: "direct", userId: "nobody_x" }, u.token);
    expect(nobody.status).toBe(404);
    const badLimit = await api(base, "GET", `/api/conversations/d:a_b:c_d/messages?limit=1000`, undefined, u.token);
    expect(badLimit.status).toBe(400);
    expect((await api(base, "GET", "/api/nope", undefined, u.token)).status).toBe(404);
    const health = await api(base, "GET", "/healthz");
    // The launcher's per-launch nonce: how it tells its own gateway from another process on the port.
    expect(health).toEqual({
      status: 200,
      body: { ok: true, draining: false, gatewayId: "gw-1", nonce: expect.any(String) },
    });
  });

  it("searches users by prefix and lists conversations newest first with previews", async () => {
    const stem = `zq${Date.now().toString(36).slice(-4)}`;
    const [a, b, c] = [await user(`${stem}a`), await user(`${stem}b`), await user("other")];
    const found = await api(base, "GET", `/api/users?prefix=${stem}`, undefined, c.token);
    expect(found.body.users.map((x: { userId: string }) => x.userId)).toEqual([a.userId, b.userId]);
    expect((await api(base, "GET", `/api/users?prefix=${"x".repeat(65)}`, undefined, c.token)).status).toBe(400);

    const d1 = (await api(base, "POST", "/api/conversations", { kind: "direct", userId: b.userId }, a.token)).body
      .conversation.conversationId;
    const g = await api(
      base,
      "POST",
      "/api/conversations",
      { kind: "group", title: "Trio", memberIds: [b.userId, c.userId] },
      a.token,
    );
    expect(g.status).toBe(201);
    expect(g.body.conversation).toMatchObject({ kind: "group", title: "Trio", lastSeq: 0, unread: 0 });
    expect(g.body.conversation.conversationId).toMatch(/^g:[A-Za-z0-9_-]{8,40}$/);
    const ws = await connect(a);
    ws.send({ type: "send", conversationId: d1, clientMessageId: "p1", body: "latest news" });
    await ws.waitForMessages(d1, 1);
    const list = await api(base, "GET", "/api/conversations", undefined, b.token);
    expect(list.body.conversations.map((x: { conversationId: string }) => x.conversationId)).toEqual([
      d1,
      g.body.conversation.conversationId,
    ]);
    expect(list.body.conversations[0]).toMatchObject({
      lastSeq: 1,
      lastPreview: "latest news",
      lastSenderId: a.userId,
      unread: 1,
      lastReadSeq: 0,
      memberIds: [a.userId, b.userId].sort(),
    });
  });
});

describe("static web client and logs", () => {
  it("serves the built client with an SPA fallback, real 404s for missing assets and no path traversal", async () => {
    const index = await fetch(base + "/");
    expect(index.status).toBe(200);
    expect(index.headers.get("content-type")).toMatch(/text\/html/);
    expect(await index.text()).toContain("<title>Parley</title>");
    expect(await (await fetch(base + "/chats/d:a:b")).text()).toContain("<title>Parley</title>");
    const asset = await fetch(base + "/assets/app.js");
    expect(asset.headers.get("content-type")).toMatch(/javascript/);
    expect((await fetch(base + "/assets/missing.js")).status).toBe(404);
    for (const p of ["/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2fpackage.json", "/assets/..%2f..%2f..%2fpackage.json"]) {
      const text = await (await fetch(base + p)).text();
      expect(text).not.toMatch(/root:|"name": "parley"/);
    }
  });

  it("never logs tokens or passwords", async () => {
    await sleep(200);
    const out = stack.gateways[0]!.process.output();
    expect(out).toMatch(/"msg":"gateway listening","port":\d+|"port":\d+.*"msg":"gateway listening"/);
    expect(issuedTokens.length).toBeGreaterThan(5);
    for (const t of issuedTokens) expect(out).not.toContain(t.split(".")[2]);
    expect(out).not.toContain(PASSWORD);
    expect(out).not.toContain(secret);
  });
});

describe("the gateway process (main.ts)", () => {
  // A test that fails before its SIGTERM must not leave its gateway running past the suite.
  const spawned: ChildProcess[] = [];
  afterEach(() => {
    for (const c of spawned.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  });

  function spawnGateway(extraEnv: Record<string, string>, dropVars: string[] = []) {
    const envVars: Record<string, string | undefined> = {
      ...process.env,
      NODE_NO_WARNINGS: "1",
      ...stack.gatewayBaseEnv,
    };
    for (const k of [env.gatewayId, env.advertiseHost, env.port, env.internalPort, ...dropVars]) delete envVars[k];
    Object.assign(envVars, extraEnv);
    const child = spawn(process.execPath, ["--import", "tsx", "runtime/gateway/main.ts"], {
      cwd: path.resolve(__dirname, "../.."),
      env: envVars as NodeJS.ProcessEnv,
      stdio: ["ignore", "pipe", "pipe"],
    });
    spawned.push(child);
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    return { child, output: () => out };
  }

  it("listens on ports 0, logs the real ports, gets a random id, and exits 0 on SIGTERM", async () => {
    const gw = spawnGateway({ [env.port]: "0", [env.internalPort]: "0" });
    const line = await waitUntil(
      async () =>
        gw
          .output()
          .split("\n")
          .find((l) => l.includes('"gateway listening"')),
      { timeoutMs: 20_000 },
    );
    const listening = JSON.parse(line) as {
      port: number;
      internalPort: number;
      gatewayId: string;
      internalUrl: string;
    };
    expect(listening.port).toBeGreaterThan(0);
    expect(listening.internalPort).toBeGreaterThan(0);
    expect(listening.internalUrl).toBe(`http://127.0.0.1:${listening.internalPort}`);
    expect(listening.gatewayId).toMatch(/^gw-[0-9a-f]{12}$/);
    const health = await api(`http://127.0.0.1:${listening.port}`, "GET", "/healthz");
    expect(health.body).toEqual({ ok: true, draining: false, gatewayId: listening.gatewayId });
    const internal = await fetch(`http://127.0.0.1:${listening.internalPort}/internal/deliver`, { method: "POST" });
    expect(internal.status).toBe(401); // no shared secret
    const exited = once(gw.child, "exit");
    const started = Date.now();
    gw.child.kill("SIGTERM");
    expect((await exited)[0]).toBe(0);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("refuses to start with a clear message when the config is invalid", async () => {
    const gw = spawnGateway({ [env.jwtSecret]: "too-short" });
    const [code] = await once(gw.child, "exit");
    expect(code).toBe(2);
    expect(gw.output()).toContain(`${env.jwtSecret} must be at least 32 characters`);
  });
});

describe("queue outage (last: it stops the SQS emulator)", () => {
  it("answers send with UNAVAILABLE and the clientMessageId, never a false accepted", async () => {
    const [a, b] = [await user("qa"), await user("qb")];
    const id = (await api(base, "POST", "/api/conversations", { kind: "direct", userId: b.userId }, a.token)).body
      .conversation.conversationId as string;
    const c = await connect(a);
    await stack.emulators.sqs.stop();
    const err = c.next((f) => f.type === "error", 20_000);
    c.send({ type: "send", conversationId: id, clientMessageId: "during-outage", body: "hello?" });
    expect(await err).toMatchObject({
      code: "UNAVAILABLE",
      ref: { type: "send", clientMessageId: "during-outage", conversationId: id },
    });
    expect(c.frames.filter((f) => f.type === "accepted")).toEqual([]);
    // the socket stays usable
    const pong = c.next((f) => f.type === "pong");
    c.send({ type: "ping" });
    await pong;
  });
});
