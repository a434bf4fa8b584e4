/**
 * One smoke-test WebSocket: connects the way the browser does (subprotocols carry the token, Origin
 * header set), records every server frame, and lets steps wait for a frame with a deadline. The handshake
 * (`openWebSocket`) is also the test suites' (tests/support/clients.ts).
 */
import type { IncomingHttpHeaders } from "node:http";
import WebSocket from "ws";
import { WS_AUTH_PROTOCOL_PREFIX, WS_PATH, WS_PROTOCOL, type ClientFrame, type ServerFrame } from "../contracts";
import { describeError, SmokeTimeoutError } from "./errors";

export interface HandshakeOptions {
  /** http(s) origin of the gateway; the ws(s) URL derives from it. */
  readonly origin: string;
  readonly protocols: readonly string[];
  /** The Origin header; default `origin`, null for none (a non-browser client). */
  readonly originHeader?: string | null;
  /** Default the protocol's WebSocket path. */
  readonly path?: string;
  /** Names the socket in messages, never the token. */
  readonly label: string;
  readonly timeoutMs?: number;
}

/** The gateway answered the upgrade with an HTTP status instead of 101; `body` is its (short) text. */
export class HandshakeRefusedError extends Error {
  constructor(
    label: string,
    readonly status: number,
    readonly body: string,
    readonly headers: IncomingHttpHeaders,
  ) {
    const detail = body.replace(/\s+/g, " ").trim().slice(0, 200);
    super(`${label}: handshake refused with HTTP ${status}${detail ? `: ${detail}` : ""}`);
    this.name = "HandshakeRefusedError";
  }
}

/**
 * Opens a WebSocket and resolves with what `attach` makes of it once the handshake succeeded. `attach` runs in
 * the `open` event itself, so its listeners are on before the first frame can arrive. A refusal rejects with
 * HandshakeRefusedError, any other failure (or an `attach` that throws) with an error naming `label`; whichever
 * way it fails, the socket is gone afterwards.
 */
export function openWebSocket<T>(options: HandshakeOptions, attach: (ws: WebSocket) => T): Promise<T> {
  const url = options.origin.replace(/^http/, "ws") + (options.path ?? WS_PATH);
  const originHeader = options.originHeader === undefined ? options.origin : options.originHeader;
  const ws = new WebSocket(url, [...options.protocols], {
    headers: originHeader === null ? {} : { Origin: originHeader },
    ...(options.timeoutMs === undefined ? {} : { handshakeTimeout: options.timeoutMs }),
  });
  return new Promise((resolve, reject) => {
    const settle = (err?: Error) => {
      ws.removeAllListeners("open");
      ws.removeAllListeners("unexpected-response");
      ws.removeAllListeners("error");
      if (err) {
        ws.on("error", () => undefined);
        ws.terminate();
        reject(err);
      }
    };
    ws.once("error", (err) => settle(new Error(`${options.label}: ${describeError(err)}`)));
    ws.once("unexpected-response", (req, res) => {
      // The gateway answers a refused handshake with a status and a JSON error; keep both.
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        if (text.length < 500) text += chunk;
      });
      res.on("end", () => {
        req.destroy();
        settle(new HandshakeRefusedError(options.label, res.statusCode ?? 0, text, res.headers));
      });
    });
    ws.once("open", () => {
      settle();
      try {
        resolve(attach(ws));
      } catch (err) {
        ws.terminate();
        reject(err);
      }
    });
  });
}

export interface OpenSocketOptions {
  /** http(s) origin of the stack; the ws(s) URL and the Origin header derive from it. */
  readonly origin: string;
  readonly token: string;
  /** Names the socket in messages ("alice's socket"), never the token. */
  readonly label: string;
  readonly timeoutMs: number;
}

interface Waiter {
  readonly match: (frame: ServerFrame) => boolean;
  readonly resolve: (frame: ServerFrame) => void;
  readonly reject: (err: Error) => void;
}

export class SmokeSocket {
  /** Every frame received, in arrival order. */
  readonly frames: ServerFrame[] = [];
  private readonly waiters = new Set<Waiter>();
  private closed: { code: number; reason: string } | undefined;
  private failure: Error | undefined;

  private constructor(
    private readonly ws: WebSocket,
    readonly label: string,
  ) {
    ws.on("message", (data, isBinary) => this.receive(data, isBinary));
    ws.on("close", (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.fail(new Error(`${label} closed by the server (code ${code}${reason.length ? `, ${reason}` : ""})`));
    });
    ws.on("error", (err) => this.fail(new Error(`${label}: ${describeError(err)}`)));
  }

  static open(options: OpenSocketOptions): Promise<SmokeSocket> {
    const handshake = {
      origin: options.origin,
      protocols: [WS_PROTOCOL, WS_AUTH_PROTOCOL_PREFIX + options.token],
      label: options.label,
      timeoutMs: options.timeoutMs,
    };
    return openWebSocket(handshake, (ws) => {
      if (ws.protocol !== WS_PROTOCOL) {
        throw new Error(`${options.label}: server chose subprotocol "${ws.protocol}", expected "${WS_PROTOCOL}"`);
      }
      return new SmokeSocket(ws, options.label);
    });
  }

  send(frame: ClientFrame): void {
    if (this.failure) throw this.failure;
    this.ws.send(JSON.stringify(frame));
  }

  /**
   * The first frame (already received or still to come) that `match` accepts. Any `error` frame
   * fails the wait: the smoke test never provokes one, so it always means the flow broke.
   */
  waitFor<T extends ServerFrame>(
    what: string,
    match: (frame: ServerFrame) => frame is T,
    timeoutMs: number,
  ): Promise<T> {
    const seen = this.frames.find(match);
    if (seen) return Promise.resolve(seen);
    const unexpected = this.frames.find((f) => f.type === "error");
    if (unexpected) return Promise.reject(errorFrameError(this.label, unexpected));
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new SmokeTimeoutError(`${what} on ${this.label}`, timeoutMs));
      }, timeoutMs);
      const waiter: Waiter = {
        match,
        resolve: (frame) => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve(frame as T);
        },
        reject: (err) => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          reject(err);
        },
      };
      this.waiters.add(waiter);
    });
  }

  /** A clean close handshake; resolves with the code the server echoed. */
  close(timeoutMs: number): Promise<{ code: number; reason: string }> {
    if (this.closed) return Promise.resolve(this.closed);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.ws.terminate();
        reject(new SmokeTimeoutError(`the close handshake on ${this.label}`, timeoutMs));
      }, timeoutMs);
      this.ws.once("close", (code, reason) => {
        clearTimeout(timer);
        resolve({ code, reason: reason.toString() });
      });
      this.ws.close(1000, "smoke test done");
    });
  }

  /** Drops the connection without a handshake: cleanup after a failed step. */
  terminate(): void {
    this.ws.terminate();
  }

  private receive(data: WebSocket.RawData, isBinary: boolean): void {
    if (isBinary) {
      this.fail(new Error(`${this.label} received a binary frame; the protocol is JSON text`));
      return;
    }
    let frame: ServerFrame;
    try {
      frame = JSON.parse(data.toString()) as ServerFrame;
    } catch {
      this.fail(new Error(`${this.label} received a frame that is not JSON`));
      return;
    }
    if (typeof frame !== "object" || frame === null || typeof frame.type !== "string") {
      this.fail(new Error(`${this.label} received a frame without a type`));
      return;
    }
    this.frames.push(frame);
    if (frame.type === "error") {
      this.fail(errorFrameError(this.label, frame));
      return;
    }
    for (const waiter of [...this.waiters]) {
      if (waiter.match(frame)) waiter.resolve(frame);
    }
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const waiter of [...this.waiters]) waiter.reject(err);
  }
}

function errorFrameError(label: string, frame: Extract<ServerFrame, { type: "error" }>): Error {
  return new Error(`${label} received error frame ${frame.code}: ${frame.message}`);
}
