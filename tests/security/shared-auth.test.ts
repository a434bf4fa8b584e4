/* eslint-disable @typescript-eslint/no-explicit-any -- JSON bodies of the API under test are checked by the assertions */
/**
 * Auth state that must hold across gateway tasks (behind the ALB, consecutive requests land on different ones):
 * the failed-login lock, and logout's revocation of a token — both kept in the auth table, not in a process.
 */
import { WS_AUTH_PROTOCOL_PREFIX, WS_PROTOCOL } from "../../runtime/contracts";
import { startLocalStack, type LocalStack } from "../../runtime/local/stack";
import { api, tryUpgrade } from "../support/clients";
import { uniqueName } from "../support/users";

jest.setTimeout(60_000);

let stack: LocalStack;
const gw = (i: number) => stack.gateways[i]!.url;
const PASSWORD = "a perfectly good passphrase";

async function signupOn(i: number, stem: string): Promise<{ userId: string; token: string }> {
  const r = await api(gw(i), "POST", "/api/signup", { username: uniqueName(stem), password: PASSWORD });
  expect(r.status).toBe(201);
  return { userId: r.body.user.userId, token: r.body.token };
}

/** The HTTP status an upgrade with `token` gets: 101 when it opens, else the refusal's status. */
async function upgradeStatus(i: number, token: string): Promise<number> {
  return (await tryUpgrade(gw(i), { protocols: [WS_PROTOCOL, WS_AUTH_PROTOCOL_PREFIX + token] })).status;
}

beforeAll(async () => {
  stack = await startLocalStack({ gateways: 2, inMemory: true });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

describe("failed-login lock is shared by every gateway", () => {
  test("5 failures on gateway A, then the right password on gateway B → 429 with Retry-After", async () => {
    const u = await signupOn(0, "lock");
    for (let i = 0; i < 5; i++) {
      const r = await api(gw(0), "POST", "/api/login", { username: u.userId, password: "wrong password!" });
      expect(r.status).toBe(401);
    }
    const res = await fetch(`${gw(1)}/api/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: u.userId, password: PASSWORD }),
    });
    expect(res.status).toBe(429);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(((await res.json()) as any).error.code).toBe("RATE_LIMITED");
    // Gateway A agrees, and the name is matched case-insensitively.
    expect(
      (await api(gw(0), "POST", "/api/login", { username: u.userId.toUpperCase(), password: PASSWORD })).status,
    ).toBe(429);
  });

  test("failures spread over both gateways at once all count", async () => {
    const u = await signupOn(1, "spread");
    const wrong = await Promise.all(
      [0, 1, 0, 1, 0].map((i) => api(gw(i), "POST", "/api/login", { username: u.userId, password: "nope nope" })),
    );
    expect(wrong.map((r) => r.status)).toEqual([401, 401, 401, 401, 401]);
    expect((await api(gw(1), "POST", "/api/login", { username: u.userId, password: PASSWORD })).status).toBe(429);
  });

  test("fewer failures than the limit, then a success, clears the count", async () => {
    const u = await signupOn(0, "clear");
    for (let i = 0; i < 4; i++) {
      expect((await api(gw(i % 2), "POST", "/api/login", { username: u.userId, password: "nope nope" })).status).toBe(
        401,
      );
    }
    expect((await api(gw(1), "POST", "/api/login", { username: u.userId, password: PASSWORD })).status).toBe(200);
    for (let i = 0; i < 4; i++) {
      expect((await api(gw(0), "POST", "/api/login", { username: u.userId, password: "nope nope" })).status).toBe(401);
    }
    expect((await api(gw(0), "POST", "/api/login", { username: u.userId, password: PASSWORD })).status).toBe(200);
  });
});

describe("logout revokes the token on every gateway", () => {
  test("after POST /api/logout the old token gets 401 from the API and the upgrade; a fresh login works", async () => {
    const u = await signupOn(0, "bye");
    // A second session of the same user (another device) must survive this one's logout.
    const other = await api(gw(1), "POST", "/api/login", { username: u.userId, password: PASSWORD });
    expect(other.status).toBe(200);
    expect((await api(gw(1), "GET", "/api/me", undefined, u.token)).status).toBe(200);
    expect(await upgradeStatus(1, u.token)).toBe(101);

    const out = await api(gw(0), "POST", "/api/logout", undefined, u.token);
    expect(out).toEqual({ status: 200, body: { ok: true } });

    for (const i of [0, 1]) {
      const me = await api(gw(i), "GET", "/api/me", undefined, u.token);
      expect(me).toEqual({ status: 401, body: { error: { code: "UNAUTHENTICATED", message: expect.any(String) } } });
      expect((await api(gw(i), "GET", "/api/conversations", undefined, u.token)).status).toBe(401);
      expect(await upgradeStatus(i, u.token)).toBe(401);
    }
    // Logging out again with the revoked token is refused like any bad token.
    expect((await api(gw(1), "POST", "/api/logout", undefined, u.token)).status).toBe(401);

    expect((await api(gw(0), "GET", "/api/me", undefined, other.body.token)).status).toBe(200);
    const again = await api(gw(1), "POST", "/api/login", { username: u.userId, password: PASSWORD });
    expect(again.status).toBe(200);
    expect(again.body.token).not.toBe(u.token);
    expect((await api(gw(0), "GET", "/api/me", undefined, again.body.token)).status).toBe(200);
    expect(await upgradeStatus(0, again.body.token)).toBe(101);
  });

  test("logout needs a valid token", async () => {
    expect((await api(gw(0), "POST", "/api/logout")).status).toBe(401);
    expect((await api(gw(0), "POST", "/api/logout", undefined, "not.a.token")).status).toBe(401);
  });
});
