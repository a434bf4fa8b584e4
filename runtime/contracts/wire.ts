/**
 * The WebSocket's constants: the path, subprotocols and close codes. No schemas here (frames.ts has them and
 * re-exports these): the web client imports values from this module only, so that its bundle does not carry
 * zod's schemas (frames.ts and messages.ts build theirs from other schemas, which a bundler cannot drop).
 */

/** The subprotocol a client must offer; the token rides as a second one: `parley.auth.<jwt>`. */
export const WS_PROTOCOL = "parley.v1";
export const WS_AUTH_PROTOCOL_PREFIX = "parley.auth.";
export const WS_PATH = "/ws";

/** Close codes the gateway uses; 1xxx are RFC 6455, 4xxx are Parley's. */
export const closeCodes = {
  normal: 1000,
  goingAway: 1001, // gateway shutting down: reconnect (to another gateway)
  policy: 1008, // e.g. repeated rate-limit violations
  tooBig: 1009, // frame above maxPayload
  authExpired: 4001, // the token expired while connected: log in again
  tooManyConnections: 4029, // per-user connection cap
  slowConsumer: 4008, // the client stopped reading: reconnect and sync
} as const;
