/**
 * The WebSocket connection to the gateway as a small state machine:
 *
 *   connecting → open → syncing (got `ready`, sent `sync`) → live (got `synced`)
 *        ↑                                            │ close / silence / handshake timeout
 *        └──── backoff (exponential, full jitter) ←───┘
 *
 * `offline` (the browser says so) drops the socket at once and then only probes every `maxDelayMs` until the
 * `online` event (navigator.onLine can be wrong, so it never waits for that event alone); close code 4001
 * ends in `unauthorized` (log in again) and 4029 in `blocked` (too many tabs): retrying those blindly cannot help.
 * Everything time- or network-related is injected so tests drive it with fake timers and a fake socket; the
 * decisions themselves (backoff, heartbeat, close codes) are pure functions in reconnectPolicy.ts.
 */
import type { ClientFrame, ServerFrame } from "../../../runtime/contracts/frames";
import { backoffDelay, closeAction, heartbeatPlan } from "./reconnectPolicy";
import { parseServerFrame, type SocketLike } from "./socket";
import { defaultTimers, type Timers } from "./timers";

export type ConnectionStatus =
  "idle" | "connecting" | "open" | "syncing" | "live" | "backoff" | "offline" | "unauthorized" | "blocked" | "stopped";

export interface ConnectionSnapshot {
  status: ConnectionStatus;
  /** Failed attempts since the last `ready`; drives the backoff. */
  attempt: number;
  /** Whether this connection was ever live: a later outage is a "reconnect", not a first connect. */
  wasLive: boolean;
  /** Epoch ms of the next attempt while in backoff. */
  retryAt?: number;
  /** The browser reported the network gone and no socket has worked since. */
  offline?: boolean;
}

export interface Cursor {
  conversationId: string;
  afterSeq: number;
}

export interface ConnectionOptions {
  createSocket: () => SocketLike;
  /** Last seq per known conversation, read when the server is ready for a `sync`. */
  getCursors: () => Cursor[];
  onFrame: (frame: ServerFrame) => void;
  onSnapshot?: (snapshot: ConnectionSnapshot) => void;
  /** The socket closed before it ever opened: an expired token looks exactly like this to a browser. */
  onHandshakeFailed?: () => void;
  random?: () => number;
  now?: () => number;
  timers?: Timers;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Give up on a socket that has not reached `ready` by then. */
  handshakeTimeoutMs?: number;
}

/**
 * `Connection.send` as the state modules are given it: true once the frame is on the socket, false when the
 * socket cannot take it (not open, or not synced yet) — each module says what it does then.
 */
export type SendFrame = (frame: ClientFrame) => boolean;

const OPEN = 1;

export class Connection {
  private readonly opts: Required<
    Pick<ConnectionOptions, "random" | "now" | "timers" | "baseDelayMs" | "maxDelayMs" | "handshakeTimeoutMs">
  > &
    ConnectionOptions;
  private socket: SocketLike | null = null;
  private socketOpened = false;
  private snapshot: ConnectionSnapshot = { status: "idle", attempt: 0, wasLive: false };
  private retryTimer: unknown = null;
  private handshakeTimer: unknown = null;
  private heartbeatTimer: unknown = null;
  private lastFrameAt = 0;

  constructor(options: ConnectionOptions) {
    this.opts = {
      random: Math.random,
      now: Date.now,
      timers: defaultTimers,
      baseDelayMs: 500,
      maxDelayMs: 10_000,
      handshakeTimeoutMs: 10_000,
      ...options,
    };
  }

  get state(): ConnectionSnapshot {
    return this.snapshot;
  }

  start(): void {
    if (this.snapshot.status !== "idle" && this.snapshot.status !== "stopped") return;
    this.connect();
  }

  /** Final: logging out. */
  stop(): void {
    this.clearRetry();
    this.dropSocket();
    this.setSnapshot({ ...this.snapshot, status: "stopped", retryAt: undefined });
  }

  /** Sends a frame if the socket is open; false tells the caller to keep it queued. */
  send(frame: ClientFrame): boolean {
    const s = this.socket;
    if (!s || !this.socketOpened || s.readyState !== OPEN) return false;
    if (this.snapshot.status !== "syncing" && this.snapshot.status !== "live") return false;
    try {
      s.send(JSON.stringify(frame));
      return true;
    } catch {
      return false;
    }
  }

  /** The browser lost the network: a half-open socket may never close by itself, so drop it now. */
  goOffline(): void {
    if (this.isFinal()) return;
    this.clearRetry();
    this.dropSocket();
    this.snapshot = { ...this.snapshot, offline: true };
    this.scheduleRetry();
  }

  /** The network is back (or the user asked): try at once, with a fresh backoff. */
  reconnectNow(): void {
    if (this.snapshot.status === "stopped" || this.snapshot.status === "unauthorized") return;
    if (this.snapshot.status === "live" || this.snapshot.status === "syncing") return;
    if (this.snapshot.status === "connecting" || this.snapshot.status === "open") return;
    this.clearRetry();
    this.snapshot = { ...this.snapshot, attempt: 0, offline: false };
    this.connect();
  }

  private isFinal(): boolean {
    return this.snapshot.status === "stopped" || this.snapshot.status === "unauthorized";
  }

  private connect(): void {
    this.dropSocket();
    let socket: SocketLike;
    try {
      socket = this.opts.createSocket();
    } catch {
      this.scheduleRetry();
      return;
    }
    this.socket = socket;
    this.socketOpened = false;
    this.setSnapshot({ ...this.snapshot, status: "connecting", retryAt: undefined });
    this.handshakeTimer = this.opts.timers.setTimeout(() => this.onDead(), this.opts.handshakeTimeoutMs);

    socket.onopen = () => {
      this.socketOpened = true;
      this.lastFrameAt = this.opts.now();
      this.setSnapshot({ ...this.snapshot, status: "open" });
    };
    socket.onmessage = (ev) => {
      this.lastFrameAt = this.opts.now();
      const frame = parseServerFrame(ev.data);
      if (frame) this.onServerFrame(frame);
    };
    socket.onerror = () => {
      // Always followed by close; the close handler decides what happens next.
    };
    socket.onclose = (ev) => {
      const opened = this.socketOpened;
      this.detach();
      this.onClosed(ev.code, opened);
    };
  }

  private onServerFrame(frame: ServerFrame): void {
    if (frame.type === "ready") {
      this.clearHandshake();
      this.startHeartbeat(frame.heartbeatMs);
      this.setSnapshot({ ...this.snapshot, status: "syncing", attempt: 0, offline: false });
      this.send({ type: "sync", cursors: this.opts.getCursors() });
    } else if (frame.type === "synced" && this.snapshot.status === "syncing") {
      this.setSnapshot({ ...this.snapshot, status: "live", wasLive: true });
    }
    this.opts.onFrame(frame);
  }

  private onClosed(code: number, opened: boolean): void {
    if (this.isFinal()) return;
    const action = closeAction(code);
    if (action === "unauthorized") {
      this.setSnapshot({ ...this.snapshot, status: "unauthorized", retryAt: undefined });
      return;
    }
    if (action === "blocked") {
      this.setSnapshot({ ...this.snapshot, status: "blocked", retryAt: undefined });
      return;
    }
    if (!opened) this.opts.onHandshakeFailed?.();
    this.scheduleRetry();
  }

  /** No `ready` in time, or no frame at all for longer than the heartbeat allows. */
  private onDead(): void {
    this.dropSocket();
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.isFinal()) return;
    this.clearRetry();
    if (this.snapshot.offline) {
      // Retrying fast cannot help without a network; a slow probe covers a browser that never says "online".
      const retryAt = this.opts.now() + this.opts.maxDelayMs;
      this.setSnapshot({ ...this.snapshot, status: "offline", retryAt });
      this.retryTimer = this.opts.timers.setTimeout(() => {
        this.retryTimer = null;
        this.connect();
      }, this.opts.maxDelayMs);
      return;
    }
    const delay = backoffDelay(this.snapshot.attempt, this.opts.random, this.opts.baseDelayMs, this.opts.maxDelayMs);
    const retryAt = this.opts.now() + delay;
    this.setSnapshot({ ...this.snapshot, status: "backoff", attempt: this.snapshot.attempt + 1, retryAt });
    this.retryTimer = this.opts.timers.setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, delay);
  }

  /** Forced by the app when the server says the token is no longer valid. */
  markUnauthorized(): void {
    this.clearRetry();
    this.dropSocket();
    this.setSnapshot({ ...this.snapshot, status: "unauthorized", retryAt: undefined });
  }

  private startHeartbeat(heartbeatMs: number): void {
    this.stopHeartbeat();
    const { pingEveryMs, deadAfterMs } = heartbeatPlan(heartbeatMs);
    this.heartbeatTimer = this.opts.timers.setInterval(() => {
      if (this.opts.now() - this.lastFrameAt > deadAfterMs) {
        this.onDead();
        return;
      }
      this.send({ type: "ping" });
    }, pingEveryMs);
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer !== null) this.opts.timers.clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }

  private clearHandshake(): void {
    if (this.handshakeTimer !== null) this.opts.timers.clearTimeout(this.handshakeTimer);
    this.handshakeTimer = null;
  }

  private clearRetry(): void {
    if (this.retryTimer !== null) this.opts.timers.clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private detach(): void {
    const s = this.socket;
    if (s) {
      s.onopen = null;
      s.onmessage = null;
      s.onclose = null;
      s.onerror = null;
    }
    this.socket = null;
    this.socketOpened = false;
    this.clearHandshake();
    this.stopHeartbeat();
  }

  /** Forgets the socket first so its late close event cannot schedule a second reconnect. */
  private dropSocket(): void {
    const s = this.socket;
    this.detach();
    if (s) {
      try {
        s.close(1000, "client reconnecting");
      } catch {
        // Closing a socket that never opened can throw in some browsers; it is gone either way.
      }
    }
  }

  private setSnapshot(next: ConnectionSnapshot): void {
    this.snapshot = next;
    this.opts.onSnapshot?.(next);
  }
}
