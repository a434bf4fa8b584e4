/* eslint-disable @typescript-eslint/no-explicit-any -- JSON bodies of the API under test are checked by the assertions */
/**
 * Test clients for the gateway acceptance suites: HTTP calls, a WebSocket client that records every frame,
 * and direct store access for bulk setup (100 users without 100 scrypt runs).
 */
import { createHmac, randomBytes } from "node:crypto";
import WebSocket from "ws";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { createDynamoClient } from "../../runtime/aws/clients";
import { env, tableNamesFor, WS_AUTH_PROTOCOL_PREFIX, WS_PROTOCOL, type ServerFrame } from "../../runtime/contracts";
import type { LocalStack } from "../../runtime/local/stack";
import { LOCAL_PREFIX } from "../../runtime/local/stack";
import { createUser } from "../../runtime/store/users";
import { sleep, timing } from "../support/timing";

export interface HttpResult<T = any> {
  status: number;
  body: T;
}

export async function api<T = any>(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  token?: string,
): Promise<HttpResult<T>> {
  const res = await fetch(base + path, {
    method,
    headers: {
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

let counter = 0;
/** A unique, valid username per test run. */
export function uniqueName(stem: string): string {
  return `${stem}_${randomBytes(3).toString("hex")}${(counter++).toString(36)}`.slice(0, 32);
}

export interface TestUser {
  userId: string;
  token: string;
}

export async function signup(base: string, stem: string, password = "correct horse battery"): Promise<TestUser> {
  const r = await api(base, "POST", "/api/signup", { username: uniqueName(stem), password });
  if (r.status !== 201) throw new Error(`signup failed: ${r.status} ${JSON.stringify(r.body)}`);
  return { userId: r.body.user.userId, token: r.body.token };
}

/** An HS256 JWT exactly as the gateway issues them, minted with the stack's secret. */
export function mintToken(secret: string, userId: string, opts: { expSeconds?: number; aud?: string } = {}): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  const head = b64({ alg: "HS256", typ: "JWT" });
  const body = b64({
    sub: userId,
    iss: "parley",
    aud: opts.aud ?? "parley-web",
    iat: now,
    exp: now + (opts.expSeconds ?? 3600),
  });
  const sig = createHmac("sha256", secret).update(`${head}.${body}`).digest("base64url");
  return `${head}.${body}.${sig}`;
}

/** Users written straight to the users table with tokens minted locally: bulk setup for fan-out tests. */
export async function bulkUsers(stack: LocalStack, stem: string, n: number): Promise<TestUser[]> {
  const ddb: DynamoDBDocumentClient = createDynamoClient(stack.aws);
  const tables = tableNamesFor(LOCAL_PREFIX);
  const secret = stack.gatewayBaseEnv[env.jwtSecret]!;
  try {
    const users = Array.from({ length: n }, (_, i) => uniqueName(`${stem}${i}`));
    for (let i = 0; i < users.length; i += 20) {
      await Promise.all(
        users
          .slice(i, i + 20)
          .map((userId) =>
            createUser(
              { ddb, tables },
              { userId, displayName: userId, passwordHash: "scrypt$disabled", createdAt: Date.now() },
            ),
          ),
      );
    }
    return users.map((userId) => ({ userId, token: mintToken(secret, userId) }));
  } finally {
    ddb.destroy();
  }
}

export type Frame = ServerFrame & Record<string, any>;

export class Client {
  readonly frames: Frame[] = [];
  closeCode?: number;
  closeReason?: string;
  /** Date.now() when the close arrived. */
  closedAt?: number;
  private waiters: { pred: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  private closeWaiters: ((code: number) => void)[] = [];
  ready!: Extract<ServerFrame, { type: "ready" }>;

  private constructor(
    readonly ws: WebSocket,
    readonly name: string,
  ) {
    ws.on("message", (data) => {
      const f = JSON.parse(data.toString()) as Frame;
      this.frames.push(f);
      this.waiters = this.waiters.filter((w) => {
        if (!w.pred(f)) return true;
        w.resolve(f);
        return false;
      });
    });
    ws.on("close", (code, reason) => {
      this.closeCode = code;
      this.closeReason = reason.toString();
      this.closedAt = Date.now();
      for (const w of this.closeWaiters) w(code);
    });
  }

  static async connect(
    baseUrl: string,
    token: string,
    opts: { origin?: string | null; name?: string; protocols?: string[] } = {},
  ): Promise<Client> {
    const protocols = opts.protocols ?? [WS_PROTOCOL, WS_AUTH_PROTOCOL_PREFIX + token];
    const origin = opts.origin === undefined ? baseUrl : opts.origin;
    const ws = new WebSocket(baseUrl.replace(/^http/, "ws") + "/ws", protocols, origin ? { origin } : {});
    const client = new Client(ws, opts.name ?? "client");
    const ready = client.waitFor((f) => f.type === "ready", timing.ms(10_000));
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
      ws.once("unexpected-response", (_req, res) => reject(new UpgradeRefused(res.statusCode ?? 0)));
    });
    client.ready = (await ready) as Client["ready"];
    return client;
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  waitFor(pred: (f: Frame) => boolean, timeoutMs = timing.ms(10_000), what = "frame"): Promise<Frame> {
    const existing = this.frames.find(pred);
    if (existing) return Promise.resolve(existing);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(
          new Error(`${this.name}: no ${what} within ${timeoutMs} ms; got ${JSON.stringify(this.frames.slice(-5))}`),
        );
      }, timeoutMs);
      const done = (f: Frame) => {
        clearTimeout(timer);
        resolve(f);
      };
      this.waiters.push({ pred, resolve: done });
    });
  }

  /** Waits for the next frame matching `pred` that arrives after this call. */
  next(pred: (f: Frame) => boolean, timeoutMs = timing.ms(10_000), what = "frame"): Promise<Frame> {
    const seen = this.frames.length;
    return this.waitFor((f) => this.frames.indexOf(f) >= seen && pred(f), timeoutMs, what);
  }

  messages(conversationId: string): Frame[] {
    return this.frames.filter((f) => f.type === "message" && f.conversationId === conversationId);
  }

  async waitForMessages(conversationId: string, count: number, timeoutMs = timing.ms(20_000)): Promise<Frame[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.messages(conversationId).length < count) {
      if (Date.now() > deadline) {
        throw new Error(`${this.name}: ${this.messages(conversationId).length}/${count} messages in ${conversationId}`);
      }
      await sleep(20);
    }
    return this.messages(conversationId);
  }

  closed(timeoutMs = timing.ms(10_000)): Promise<number> {
    if (this.closeCode !== undefined) return Promise.resolve(this.closeCode);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: not closed within ${timeoutMs} ms`)), timeoutMs);
      this.closeWaiters.push((code) => {
        clearTimeout(timer);
        resolve(code);
      });
    });
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    const done = this.closed().catch(() => 0);
    this.ws.close();
    await done;
  }
}

export class UpgradeRefused extends Error {
  constructor(readonly status: number) {
    super(`upgrade refused with HTTP ${status}`);
  }
}
