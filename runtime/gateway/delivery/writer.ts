/**
 * The write side of one socket: every frame a session sends goes through push(), which holds frames until
 * `ready` is out, refuses to queue without bound (slow consumers are closed with 4008), and lets long sends wait
 * for the socket to drain. Also the socket's liveness (ping/pong) and the kill timer after a close.
 */
import type WebSocket from "ws";
import { CLOSE_HANDSHAKE_MS, closeCodes, type ServerFrame } from "../../contracts";
import type { GatewayContext } from "../context";
import { sleep } from "../util";

/** The parts of a ws WebSocket the writer uses. */
export type WriterSocket = Pick<
  WebSocket,
  "OPEN" | "readyState" | "bufferedAmount" | "send" | "close" | "terminate" | "ping" | "on"
>;

/** What the writer needs from the session it writes for. */
export interface WriterOwner {
  /** True once the session is closed: nothing more is sent, and work in progress stops. */
  readonly closed: boolean;
  close(code: number, reason: string): void;
}

export class SocketWriter {
  /**
   * Frames pushed while the session opens, sent right after `ready`: peers route to a socket as soon as its
   * record is written, which is before `ready` (docs/protocol.md promises `ready` first). Undefined when not
   * holding.
   */
  private held: string[] | undefined;
  private heldBytes = 0;
  /** Whether the peer answered the last ping. */
  private pongSinceLastPing = true;
  private killTimer?: NodeJS.Timeout;

  constructor(
    private readonly ctx: GatewayContext,
    private readonly ws: WriterSocket,
    private readonly owner: WriterOwner,
  ) {
    ws.on("pong", () => (this.pongSinceLastPing = true));
  }

  push(text: string): void {
    if (this.owner.closed || this.ws.readyState !== this.ws.OPEN) return;
    if (this.held) {
      this.heldBytes += text.length;
      if (this.heldBytes > this.ctx.settings.slowConsumerBytes)
        this.owner.close(closeCodes.slowConsumer, "slow consumer");
      else this.held.push(text);
      return;
    }
    if (this.ws.bufferedAmount > this.ctx.settings.slowConsumerBytes) {
      this.owner.close(closeCodes.slowConsumer, "slow consumer: reconnect and sync");
      return;
    }
    this.ws.send(text);
  }

  send(frame: ServerFrame): void {
    this.push(JSON.stringify(frame));
  }

  /** From now on frames are held (the session is opening). */
  hold(): void {
    this.held = [];
  }

  /** Sends `first` (the `ready` frame), then what was held meanwhile, and stops holding. */
  release(first: ServerFrame): void {
    const held = this.held ?? [];
    this.held = undefined;
    this.send(first);
    for (const text of held) this.push(text);
  }

  /** Waits for the socket to flush below half the slow-consumer threshold (sync must not flood memory). */
  async drain(): Promise<void> {
    const limit = this.ctx.settings.slowConsumerBytes / 2;
    const deadline = this.ctx.now() + 10_000;
    while (!this.owner.closed && this.ws.bufferedAmount > limit) {
      if (this.ctx.now() > deadline) {
        this.owner.close(closeCodes.slowConsumer, "slow consumer: reconnect and sync");
        return;
      }
      await sleep(10);
    }
  }

  /**
   * Called by the server's heartbeat timer: a peer that did not answer the last ping is dead. The verdict waits
   * for the event loop's next poll phase: after a stall the timer runs before the sockets' pending input is read,
   * and a pong that arrived in time would not have been counted yet (seen in CI with a 100 ms heartbeat).
   */
  heartbeat(): void {
    if (this.pongSinceLastPing) return this.ping();
    setImmediate(() => (this.pongSinceLastPing ? this.ping() : this.ws.terminate()));
  }

  private ping(): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    this.pongSinceLastPing = false;
    this.ws.ping();
  }

  /** Starts the close handshake; the owner has marked itself closed. */
  close(code: number, reason: string): void {
    this.ws.close(code, reason);
    this.armKillTimer(this.ws.bufferedAmount);
  }

  /** The socket is gone. */
  dispose(): void {
    clearTimeout(this.killTimer);
  }

  /**
   * A slow or dead peer may never answer the close frame: terminate it CLOSE_HANDSHAKE_MS after the close, but not while the
   * frames sent before the close are still draining to it (terminating would discard them). A peer that stops
   * reading altogether is cut off once its buffer has made no progress for one interval.
   */
  private armKillTimer(queuedBefore: number): void {
    this.killTimer = setTimeout(() => {
      const queued = this.ws.bufferedAmount;
      if (queued > 0 && queued < queuedBefore) this.armKillTimer(queued);
      else this.ws.terminate();
    }, CLOSE_HANDSHAKE_MS);
    this.killTimer.unref();
  }
}
