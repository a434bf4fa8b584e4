/**
 * The connection's decisions as pure functions: how long to wait before the next attempt, how often to ping and
 * when silence means a dead link, and what a close code means. Unit-tested without a socket.
 */
import { closeCodes } from "../../../runtime/contracts/wire";

/** Full-jitter exponential backoff: uniform in [0, min(cap, base·2^attempt)). Spreads a herd of reconnects. */
export function backoffDelay(attempt: number, random: () => number, baseMs = 500, capMs = 10_000): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}

/** How often to ping and when silence means the link is dead, from the server's advertised heartbeat. */
export function heartbeatPlan(heartbeatMs: number): { pingEveryMs: number; deadAfterMs: number } {
  const pingEveryMs = Math.max(1000, Math.min(10_000, Math.floor((heartbeatMs > 0 ? heartbeatMs : 20_000) / 2)));
  return { pingEveryMs, deadAfterMs: pingEveryMs * 2 + 1000 };
}

/** What a close code means for the next step. */
export function closeAction(code: number): "retry" | "unauthorized" | "blocked" {
  if (code === closeCodes.authExpired) return "unauthorized";
  if (code === closeCodes.tooManyConnections) return "blocked";
  return "retry";
}
