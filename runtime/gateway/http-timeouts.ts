/**
 * Node's HTTP timeouts behind an ALB. The gateway must keep an idle connection open longer than the load
 * balancer does: if Node closes first, the ALB can send a request down the socket as it closes and answer
 * the client with a 502 (AWS documents this for ALB targets).
 */
export interface HttpTimeouts {
  readonly keepAliveTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
}

/** Headroom above the ALB idle timeout. */
const KEEP_ALIVE_MARGIN_MS = 5_000;
/** The request timeout that bounds slow clients, raised only when the headers timeout needs more. */
const MIN_REQUEST_TIMEOUT_MS = 30_000;

export function httpTimeouts(albIdleTimeoutSeconds: number): HttpTimeouts {
  const keepAliveTimeoutMs = albIdleTimeoutSeconds * 1000 + KEEP_ALIVE_MARGIN_MS;
  // Above keep-alive, so a reused socket is never cut by the headers timer while the ALB still holds it.
  const headersTimeoutMs = keepAliveTimeoutMs + 1_000;
  return {
    keepAliveTimeoutMs,
    headersTimeoutMs,
    requestTimeoutMs: Math.max(MIN_REQUEST_TIMEOUT_MS, headersTimeoutMs),
  };
}
