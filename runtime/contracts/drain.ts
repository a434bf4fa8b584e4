/**
 * How a gateway leaves the load balancer without cutting WebSockets. When ECS stops a task it first deregisters
 * it from the target group and waits for the deregistration delay (or until the target has no connections left),
 * and only then sends SIGTERM; the ALB cuts whatever is still open when the delay ends (clients see 1006). A
 * draining target gets no more health checks, so a gateway that has been health-checked notices the silence and
 * closes its sockets with 1001 itself, spread over a window so the fleet is not hit by every reconnect at once.
 * The Pulumi component derives the target group's health check and deregistration delay from these numbers, the
 * gateway derives its watchdog from them: one source, so the two cannot drift apart.
 */

/** The path only the load balancer's health checker uses: a request here means "still registered". */
export const LB_HEALTH_PATH = "/healthz/lb";

/** The target group health check (ALB limits: interval 5-300 s, timeout below the interval). */
export const lbHealthCheck = {
  intervalSeconds: 10,
  timeoutSeconds: 5,
  healthyThreshold: 2,
  unhealthyThreshold: 3,
} as const;

/** The timings a drain is made of, in ms (tests shrink them; production uses `drainTiming`). */
export interface DrainTiming {
  /** How often the load balancer health-checks a registered target. */
  readonly healthCheckIntervalMs: number;
  /** Intervals without a health check after which the gateway decides it was deregistered and drains. */
  readonly missedHealthChecks: number;
  /** Open sockets are closed one after another, evenly over this window. */
  readonly drainSpreadMs: number;
}

export const drainTiming: DrainTiming = {
  healthCheckIntervalMs: lbHealthCheck.intervalSeconds * 1000,
  // Three, not one: the ALB's nodes check independently, and one late or lost check must not drain a gateway.
  missedHealthChecks: 3,
  drainSpreadMs: 30_000,
};

/** A closed socket that never answers the close frame is terminated this long after it (ws-session.ts). */
export const CLOSE_HANDSHAKE_MS = 2_000;
/** Headroom between the last close and the moment the ALB would cut: a health check in flight, a slow loop. */
export const DRAIN_MARGIN_MS = 15_000;

/**
 * The latest a deregistered gateway has closed every socket, counted from deregistration: the last health
 * check came before it, the silence is noticed `missed` intervals after that check, then the spread, then the
 * last close handshake.
 */
export function drainDeadlineMs(t: DrainTiming): number {
  return t.healthCheckIntervalMs * t.missedHealthChecks + t.drainSpreadMs + CLOSE_HANDSHAKE_MS;
}

/** The target group's deregistration delay: the ALB waits out the whole drain before it cuts anything. */
export function deregistrationDelaySeconds(t: DrainTiming = drainTiming): number {
  return Math.ceil((drainDeadlineMs(t) + DRAIN_MARGIN_MS) / 1000);
}

/** The close reason a draining gateway gives: the client reconnects (another gateway answers) and syncs. */
export const GOING_AWAY_REASON = "gateway draining: reconnect and sync";
