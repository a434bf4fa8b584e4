/**
 * The shutdown sequence behind an ALB, in the order ECS runs it: the target is health-checked, then deregistered
 * (the checks stop; the ALB would cut every socket still open when the deregistration delay ends), and only
 * after that SIGTERM. A real gateway process on the emulators, with the drain timings shrunk: its clients must
 * get 1001 with reconnect advice, spread over the drain window, before the (simulated) delay ends; upgrades are
 * refused and /healthz says draining meanwhile; SIGTERM closes whatever remains at once and the process exits 0.
 */
import { once } from "node:events";
import {
  deregistrationDelaySeconds,
  GOING_AWAY_REASON,
  LB_HEALTH_PATH,
  WS_AUTH_PROTOCOL_PREFIX,
  WS_PROTOCOL,
  type DrainTiming,
} from "../../runtime/contracts";
import { startLocalStack, type LocalStack } from "../../runtime/local/stack";
import { timing, waitUntil } from "../support/timing";
import { api, Client, tryUpgrade } from "../support/clients";
import { signup, type TestUser } from "../support/users";
import { startTestGateway, type TestGateway } from "./support/settings-gateway";

jest.setTimeout(timing.ms(120_000));

let stack: LocalStack;
const gateways: TestGateway[] = [];
const clients: Client[] = [];
const checkers: { stop(): number }[] = [];
let users: TestUser[];

async function startGateway(id: string, drain: DrainTiming): Promise<TestGateway> {
  const g = await startTestGateway(stack, id, { settings: { drain } });
  gateways.push(g);
  return g;
}

/** The ALB's health checker: GET LB_HEALTH_PATH every interval until stopped ("deregistered"). */
function healthChecker(g: TestGateway, intervalMs: number) {
  const statuses: number[] = [];
  let lastSentAt = 0;
  const check = () => {
    lastSentAt = Date.now();
    fetch(g.url + LB_HEALTH_PATH).then(
      (r) => statuses.push(r.status),
      () => statuses.push(0),
    );
  };
  check();
  const timer = setInterval(check, intervalMs);
  const checker = {
    statuses,
    /** Deregistration: no check after this one. Returns when the last check was sent. */
    stop: () => {
      clearInterval(timer);
      return lastSentAt;
    },
  };
  checkers.push(checker);
  return checker;
}

/**
 * One /healthz probe. When draining starts the gateway closes its idle keep-alive connections, and a probe that
 * fetch sends on one of them just then is reset (ECONNRESET, "other side closed") without an answer; a load
 * balancer counts that as one failed check and probes again, and so does this (status 0: no answer).
 */
async function healthz(g: TestGateway): Promise<{ status: number; draining?: boolean }> {
  try {
    const r = await api<{ draining?: boolean }>(g.url, "GET", "/healthz");
    return { status: r.status, draining: r.body.draining };
  } catch (err) {
    if (causeCodes(err).some((c) => c === "ECONNRESET" || c === "UND_ERR_SOCKET")) return { status: 0 };
    throw err;
  }
}

/** The `code` of every error in `err`'s cause chain (sendJson wraps fetch's error, which wraps the socket's). */
function causeCodes(err: unknown): string[] {
  const codes: string[] = [];
  for (let e = err as { code?: unknown; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (typeof e.code === "string") codes.push(e.code);
  }
  return codes;
}

/** The HTTP status an upgrade attempt is answered with (101 when it is accepted). */
async function upgradeStatus(g: TestGateway, token: string): Promise<number> {
  return (await tryUpgrade(g.url, { protocols: [WS_PROTOCOL, WS_AUTH_PROTOCOL_PREFIX + token] })).status;
}

async function connectAll(g: TestGateway, n: number): Promise<Client[]> {
  const connected: Client[] = [];
  for (const [i, u] of users.slice(0, n).entries()) {
    connected.push(await Client.connect(g.url, u.token, { name: `c${i}` }));
  }
  clients.push(...connected);
  return connected;
}

async function exitCode(g: TestGateway): Promise<number | null> {
  if (g.child.exitCode !== null) return g.child.exitCode;
  const [code] = (await once(g.child, "exit")) as [number | null];
  return code;
}

beforeAll(async () => {
  stack = await startLocalStack({ gateways: 0, inMemory: true });
  // Users are made through a throwaway gateway so the gateways under test start with no history.
  const setup = await startGateway("gw-setup", {
    healthCheckIntervalMs: 60_000,
    missedHealthChecks: 3,
    drainSpreadMs: 1_000,
  });
  users = [];
  for (let i = 0; i < 6; i++) users.push(await signup(setup.url, `drain${i}`));
}, timing.ms(120_000));

afterEach(async () => {
  for (const c of checkers.splice(0)) c.stop();
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  for (const g of gateways) {
    if (g.child.exitCode === null && g.child.signalCode === null) g.child.kill("SIGKILL");
  }
  await stack?.stop();
});

test("deregistered (health checks stop): every client gets 1001 + reconnect advice, spread out, before the delay ends", async () => {
  const drain: DrainTiming = {
    healthCheckIntervalMs: timing.ms(300),
    missedHealthChecks: 3,
    drainSpreadMs: timing.ms(2_000),
  };
  const g = await startGateway("gw-drain", drain);
  const alb = healthChecker(g, drain.healthCheckIntervalMs);
  await waitUntil(() => alb.statuses.filter((s) => s === 200).length >= 2, { what: "two passing health checks" });
  const open = await connectAll(g, 5);

  const lastCheck = alb.stop();
  const delayEndsAt = lastCheck + deregistrationDelaySeconds(drain) * 1000;

  // Draining is visible: /healthz says so, new upgrades are refused with 503.
  const health = await waitUntil(
    async () => {
      const h = await healthz(g);
      return h.status === 503 && h;
    },
    { timeoutMs: delayEndsAt - Date.now(), what: "/healthz reporting draining" },
  );
  expect(health.draining).toBe(true);
  expect(await upgradeStatus(g, users[5]!.token)).toBe(503);

  await Promise.all(open.map((c) => c.closed(Math.max(0, delayEndsAt - Date.now()))));
  for (const c of open) {
    expect({ code: c.closeCode, reason: c.closeReason }).toEqual({ code: 1001, reason: GOING_AWAY_REASON });
    expect(c.closedAt!).toBeLessThan(delayEndsAt);
  }
  const closedAt = open.map((c) => c.closedAt!).sort((a, b) => a - b);
  // Not while the checks were still coming: only after `missed` silent intervals.
  expect(closedAt[0]! - lastCheck).toBeGreaterThanOrEqual(drain.healthCheckIntervalMs * drain.missedHealthChecks);
  // One after another over the window, not all at once: 5 sockets, one every spread/5.
  expect(closedAt.at(-1)! - closedAt[0]!).toBeGreaterThanOrEqual(drain.drainSpreadMs * 0.5);

  // Then ECS sends SIGTERM: nothing is left to close, and the process exits cleanly.
  g.child.kill("SIGTERM");
  expect(await exitCode(g)).toBe(0);
});

test("SIGTERM during a drain closes the remaining sockets with 1001 at once and exits 0", async () => {
  const drain: DrainTiming = {
    healthCheckIntervalMs: timing.ms(300),
    missedHealthChecks: 3,
    // Far longer than the test waits: only SIGTERM can close the rest in time.
    drainSpreadMs: 600_000,
  };
  const g = await startGateway("gw-sigterm", drain);
  const alb = healthChecker(g, drain.healthCheckIntervalMs);
  await waitUntil(() => alb.statuses.filter((s) => s === 200).length >= 2, { what: "two passing health checks" });
  const open = await connectAll(g, 4);
  alb.stop();

  // The first socket goes when the drain starts; the next would follow only minutes later.
  await waitUntil(() => open.some((c) => c.closeCode !== undefined), {
    timeoutMs: timing.ms(15_000),
    what: "the drain's first close",
  });
  expect(open.filter((c) => c.closeCode === undefined)).toHaveLength(3);

  const signalledAt = Date.now();
  g.child.kill("SIGTERM");
  await Promise.all(open.map((c) => c.closed(timing.ms(10_000))));
  for (const c of open) {
    expect({ code: c.closeCode, reason: c.closeReason }).toEqual({ code: 1001, reason: GOING_AWAY_REASON });
  }
  expect(Math.max(...open.map((c) => c.closedAt!)) - signalledAt).toBeLessThan(timing.ms(5_000));
  expect(await exitCode(g)).toBe(0);
});
