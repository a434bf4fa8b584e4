/* eslint-disable @typescript-eslint/no-explicit-any -- JSON bodies of the API under test are checked by the assertions */
/**
 * The suites' protocol clients, built on the smoke test's (runtime/smoke/http.ts, runtime/smoke/socket.ts): HTTP
 * calls that answer with any status, a WebSocket client that records every frame, and an upgrade attempt that
 * reports how the gateway answered it.
 */
import type { IncomingHttpHeaders } from "node:http";
import WebSocket from "ws";
import { WS_AUTH_PROTOCOL_PREFIX, WS_PROTOCOL, type ServerFrame } from "../../runtime/contracts";
import { sendJson } from "../../runtime/smoke/http";
import { HandshakeRefusedError, openWebSocket, type HandshakeOptions } from "../../runtime/smoke/socket";
import { sleep, timing } from "./timing";

export interface HttpResult<T = any> {
  status: number;
  body: T;
}

/** One API call; any status is returned, with the body parsed (undefined when empty or not JSON). */
export async function api<T = any>(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  token?: string,
): Promise<HttpResult<T>> {
  const res = await sendJson(base, method, path, { body, token });
  return { status: res.status, body: res.body as T };
}

export interface UpgradeOutcome {
  /** 101 when the upgrade was accepted, the refusal's HTTP status, or -1 when the connection failed. */
  readonly status: number;
  /** The subprotocol the gateway chose (accepted upgrades). */
  readonly protocol?: string;
  /** The refusal's body, parsed when it is JSON. */
  readonly body?: any;
  readonly headers?: IncomingHttpHeaders;
}

/** Attempts an upgrade; an accepted socket is closed at once. */
export async function tryUpgrade(
  base: string,
  opts: { protocols?: string[]; origin?: string | null; path?: string } = {},
): Promise<UpgradeOutcome> {
  const handshake: HandshakeOptions = {
    origin: base,
    protocols: opts.protocols ?? [],
    originHeader: opts.origin,
    path: opts.path,
    label: "upgrade attempt",
  };
  try {
    return await openWebSocket(handshake, (ws) => {
      ws.on("error", () => undefined);
      ws.close();
      return { status: 101, protocol: ws.protocol };
    });
  } catch (err) {
    if (!(err instanceof HandshakeRefusedError)) return { status: -1 };
    let body: unknown;
    try {
      body = JSON.parse(err.body);
    } catch {
      body = err.body;
    }
    return { status: err.status, body, headers: err.headers };
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
    // An error after the handshake ends in a close, which is recorded below.
    ws.on("error", () => undefined);
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
    const name = opts.name ?? "client";
    const client = await openWebSocket(
      {
        origin: baseUrl,
        protocols: opts.protocols ?? [WS_PROTOCOL, WS_AUTH_PROTOCOL_PREFIX + token],
        originHeader: opts.origin,
        label: name,
      },
      (ws) => new Client(ws, name),
    );
    client.ready = (await client.waitFor((f) => f.type === "ready", timing.ms(10_000))) as Client["ready"];
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
