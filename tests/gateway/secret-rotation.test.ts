/**
 * Secret rotation, unit level: the value format of PARLEY_JWT_SECRET / PARLEY_INTERNAL_SECRET, the token verifier
 * and the internal endpoint accepting the previous value for its grace window only, and a router that offers the
 * previous value to a peer started before the rotation and never removes a refusing peer's records. Real HTTP
 * servers on port 0, an injected clock, a recording stand-in for DynamoDB.
 */
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import {
  ConfigError,
  env,
  loadGatewayConfig,
  parseRotatingSecret,
  queues,
  tableKeys,
  tables,
  type GatewayConfig,
} from "../../runtime/contracts";
import { AuthError, TokenService } from "../../runtime/gateway/auth";
import { deriveSettings, type GatewayContext } from "../../runtime/gateway/context";
import { ConnectionDirectory } from "../../runtime/gateway/delivery/directory";
import { createInternalHandler } from "../../runtime/gateway/delivery/internal";
import { PeerClient } from "../../runtime/gateway/delivery/peer";
import { INTERNAL_SECRET_HEADER, internalPaths } from "../../runtime/gateway/delivery/peer-protocol";
import { Router } from "../../runtime/gateway/delivery/routing";
import { LocalSessions, type LocalSession } from "../../runtime/gateway/sessions";

const OLD = "o".repeat(40);
const NEW = "n".repeat(40);
const UNRELATED = "u".repeat(40);
const T0 = 1_750_000_000_000;
const UNTIL = T0 + 60_000;

const rotated = (current: string, previous: string, previousUntil = UNTIL) =>
  JSON.stringify({ current, previous, previousUntil });

/** A gateway config read from env exactly as main.ts reads it, with the two secrets given. */
function configWith(jwtSecret: string, internalSecret: string): GatewayConfig {
  return loadGatewayConfig({
    ...Object.fromEntries(tableKeys.map((k) => [tables[k].envVar, `t-${k}`])),
    [queues.inbound.envVar]: "http://q/inbound.fifo",
    [queues.notify.envVar]: "http://q/notify",
    [env.allowedOrigins]: "http://localhost:1",
    [env.jwtSecret]: jwtSecret,
    [env.internalSecret]: internalSecret,
  });
}

describe("the secret value format", () => {
  it("reads a plain value as the current secret with no rotation", () => {
    expect(parseRotatingSecret("S", OLD)).toEqual({ current: OLD });
  });

  it("reads the rotation JSON", () => {
    expect(parseRotatingSecret("S", rotated(NEW, OLD))).toEqual({
      current: NEW,
      rotation: { previous: { value: OLD, until: UNTIL } },
    });
    expect(parseRotatingSecret("S", JSON.stringify({ current: OLD, next: NEW }))).toEqual({
      current: OLD,
      rotation: { next: NEW },
    });
  });

  it.each([
    ["a short plain value", "short".padEnd(20, "x"), /^S must be at least 32 characters$/],
    ["previous without previousUntil", JSON.stringify({ current: NEW, previous: OLD }), /go together/],
    ["previousUntil without previous", JSON.stringify({ current: NEW, previousUntil: UNTIL }), /go together/],
    [
      "a short previous",
      JSON.stringify({ current: NEW, previous: "short", previousUntil: UNTIL }),
      /S\.previous must be at least 32/,
    ],
    ["an unknown field", JSON.stringify({ current: NEW, next: OLD, extra: 1 }), /Unrecognized key/],
    ["no current", JSON.stringify({ previous: OLD, previousUntil: UNTIL }), /S: current:/],
    ["broken JSON", `{"current": "${NEW}", `, /S starts with "\{" but is not valid JSON/],
  ])("refuses %s, naming the field and never a value", (_case, raw, message) => {
    let error: unknown;
    try {
      parseRotatingSecret("S", raw);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toMatch(/ooo|nnn|xxx/);
  });
});

describe("TokenService during a rotation", () => {
  let clock = T0;
  const service = (secret: string, rotation?: GatewayConfig["jwtSecretRotation"]) =>
    new TokenService({
      secret,
      rotation,
      now: () => clock,
      issuer: "parley",
      audience: "parley-web",
      ttlSeconds: 3600,
    });
  const rotatedConfig = configWith(rotated(NEW, OLD), OLD);
  const afterRotation = service(rotatedConfig.jwtSecret, rotatedConfig.jwtSecretRotation);
  const verdict = (s: TokenService, token: string) =>
    s.verify(token).then(
      (v) => v.userId,
      (err) => (err instanceof AuthError ? "refused" : err),
    );
  beforeEach(() => (clock = T0));

  it("signs with the current secret", async () => {
    const token = await afterRotation.issue("alice");
    expect(await verdict(service(NEW), token)).toBe("alice");
    expect(await verdict(service(OLD), token)).toBe("refused");
  });

  it("accepts a token signed with the previous secret until previousUntil, and refuses it from then on", async () => {
    const token = await service(OLD).issue("alice");
    clock = UNTIL - 1;
    expect(await verdict(afterRotation, token)).toBe("alice");
    clock = UNTIL;
    expect(await verdict(afterRotation, token)).toBe("refused");
  });

  it("refuses a token signed with an unrelated secret", async () => {
    expect(await verdict(afterRotation, await service(UNRELATED).issue("alice"))).toBe("refused");
  });

  it("keeps the claim rules for the previous secret: expiry, issuer, audience", async () => {
    const token = await service(OLD).issue("alice");
    clock = T0 + 3601_000;
    const longGrace = service(NEW, { previous: { value: OLD, until: T0 + 10 * 3600_000 } });
    expect(await verdict(longGrace, token)).toBe("refused");
    clock = T0;
    const foreign = new TokenService({ secret: OLD, issuer: "other", audience: "parley-web", ttlSeconds: 60 });
    expect(await verdict(afterRotation, await foreign.issue("alice"))).toBe("refused");
  });

  it("accepts a staged next secret, so tasks started before the promotion verify the new generation", async () => {
    const staged = configWith(JSON.stringify({ current: OLD, next: NEW }), OLD);
    const beforePromotion = service(staged.jwtSecret, staged.jwtSecretRotation);
    expect(await verdict(beforePromotion, await service(NEW).issue("bob"))).toBe("bob");
    // Still signs with the current value.
    expect(await verdict(service(OLD), await beforePromotion.issue("bob"))).toBe("bob");
  });
});

// ---- gateways: a sender's router against a peer's real internal endpoint

const logs: { level: string; fields: unknown; msg: string }[] = [];
const recordingLog = {
  ...Object.fromEntries(
    ["debug", "info", "warn", "error"].map((level) => [
      level,
      (fields: unknown, msg: string) => logs.push({ level, fields, msg }),
    ]),
  ),
  child: () => recordingLog,
} as never;

let clock = T0;
const sent: string[] = [];
const fakeDdb = {
  send: async (cmd: { constructor: { name: string } }) => {
    sent.push(cmd.constructor.name);
    return {};
  },
};

function contextOf(config: GatewayConfig, gatewayId: string, internalUrl = "http://127.0.0.1:1"): GatewayContext {
  return {
    config,
    settings: deriveSettings(config),
    gatewayId,
    internalUrl,
    db: { ddb: fakeDdb as never, tables: config.tables },
    sqs: {} as never,
    log: recordingLog,
    tokens: {} as never,
    now: () => clock,
  };
}

/** Bob's socket on a peer: records what reaches it. */
function bobsSession(): LocalSession & { pushed: string[] } {
  const pushed: string[] = [];
  return {
    ...{ connectionId: "c-bob", userId: "bob", connectedAt: 0, pushed, close() {} },
    push: (text) => void pushed.push(text),
    pushMessage: (_ref, text) => void pushed.push(text),
  };
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  logs.length = 0;
  sent.length = 0;
  clock = T0;
});

/** A peer gateway's internal endpoint, holding Bob's socket; records the secrets it was offered. */
async function peer(internalSecret: string) {
  const ctx = contextOf(configWith(OLD, internalSecret), "gw-peer");
  const sessions = new LocalSessions();
  const bob = bobsSession();
  sessions.add(bob);
  const handle = createInternalHandler(ctx, {
    sessions,
    directory: new ConnectionDirectory(ctx),
    contacts: { forget() {} },
    members: { forget() {} },
  });
  const offered: unknown[] = [];
  const server = createServer((req, res) => {
    offered.push(req.headers[INTERNAL_SECRET_HEADER]);
    void handle(req, res);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, bob, offered };
}

function routerWith(internalSecret: string) {
  const ctx = contextOf(configWith(OLD, internalSecret), "gw-sender");
  const removed: string[][] = [];
  const peerClient = new PeerClient(ctx);
  const router = new Router(ctx, new LocalSessions(), new ConnectionDirectory(ctx), {
    peers: peerClient,
    onRecordsRemoved: (userIds) => removed.push(userIds),
  });
  return { router, peerClient, removed };
}

const bobOn = (internalUrl: string) => ({
  frame: "F",
  connections: [
    {
      connectionId: "c-bob",
      userId: "bob",
      gatewayId: "gw-peer",
      internalUrl,
      connectedAt: 0,
      lastSeen: 0,
      expiresAt: 2 ** 40,
    },
  ],
});

describe("internal delivery between gateways holding different generations of the internal secret", () => {
  it("a rotated gateway reaches a peer started before the rotation with the previous value", async () => {
    const p = await peer(OLD);
    const { router, removed } = routerWith(rotated(NEW, OLD));
    const stats = await router.routeToConnections([bobOn(p.url)]);
    expect(p.bob.pushed).toEqual(["F"]);
    expect(p.offered).toEqual([NEW, OLD]);
    expect(stats).toMatchObject({ forwarded: 1, removed: 0, refused: 0 });
    expect(removed).toEqual([]);
    expect(sent).toEqual([]);
  });

  it("a rotated gateway accepts a peer's previous value until previousUntil, and refuses it from then on", async () => {
    const p = await peer(rotated(NEW, OLD));
    const { router } = routerWith(OLD);
    clock = UNTIL - 1;
    await router.routeToConnections([bobOn(p.url)]);
    expect(p.bob.pushed).toEqual(["F"]);
    clock = UNTIL;
    await router.routeToConnections([bobOn(p.url)]);
    expect(p.bob.pushed).toEqual(["F"]);
  });

  it("a rotated gateway stops offering the previous value after previousUntil", async () => {
    const p = await peer(OLD);
    const { router } = routerWith(rotated(NEW, OLD));
    clock = UNTIL;
    await router.routeToConnections([bobOn(p.url)]);
    expect(p.offered).toEqual([NEW]);
    expect(p.bob.pushed).toEqual([]);
  });

  it("a peer refusing every value is alive: its records are kept and the refusal is logged without secrets", async () => {
    const p = await peer(UNRELATED);
    const { router, removed } = routerWith(rotated(NEW, OLD));
    const stats = await router.routeToConnections([bobOn(p.url)]);
    expect(p.bob.pushed).toEqual([]);
    expect(sent).not.toContain("BatchWriteCommand");
    expect(removed).toEqual([]);
    expect(stats).toMatchObject({ forwarded: 0, removed: 0, refused: 1 });
    const warned = logs.filter((l) => l.level === "warn");
    expect(warned.map((l) => l.msg)).toEqual(["peer gateway refused our internal secret; keeping its records"]);
    expect(JSON.stringify(warned)).not.toMatch(new RegExp(`${OLD}|${NEW}|${UNRELATED}`));
  });

  it("invalidations reach a peer started before the rotation too", async () => {
    const p = await peer(OLD);
    const { peerClient } = routerWith(rotated(NEW, OLD));
    expect(await peerClient.invalidatePeers([p.url], { userIds: ["bob"] })).toBe(true);
    expect(p.offered).toEqual([NEW, OLD]);
  });

  it("an invalidation some peer did not acknowledge answers false (the session then catches up after the TTL)", async () => {
    const p = await peer(NEW);
    const { peerClient } = routerWith(NEW);
    expect(await peerClient.invalidatePeers([p.url], { userIds: ["bob"] })).toBe(true);
    expect(await peerClient.invalidatePeers([p.url, "http://127.0.0.1:9"], { userIds: ["bob"] })).toBe(false);
    const refusing = await peer(UNRELATED);
    expect(await peerClient.invalidatePeers([refusing.url], { userIds: ["bob"] })).toBe(false);
  });

  it("the internal endpoint answers 401 to an unrelated secret", async () => {
    const p = await peer(rotated(NEW, OLD));
    const res = await fetch(p.url + internalPaths.invalidate, {
      method: "POST",
      headers: { "content-type": "application/json", [INTERNAL_SECRET_HEADER]: UNRELATED },
      body: "{}",
    });
    expect(res.status).toBe(401);
    expect(await res.text()).not.toContain(NEW);
  });
});
