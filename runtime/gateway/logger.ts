import pino, { type Logger } from "pino";

export type { Logger };

/**
 * Paths pino blanks before a line is written. Tokens ride in the Authorization header and in the WebSocket
 * subprotocol header; passwords only in request bodies, which are never logged — redacted anyway in case a
 * future log call passes one.
 */
export const redactPaths = [
  "req.headers.authorization",
  'req.headers["sec-websocket-protocol"]',
  'req.headers["x-parley-internal-secret"]',
  "headers.authorization",
  'headers["sec-websocket-protocol"]',
  'headers["x-parley-internal-secret"]',
  "password",
  "*.password",
  "token",
  "*.token",
];

export function createLogger(level: string, bindings: Record<string, unknown> = {}): Logger {
  return pino({
    level,
    base: { service: "parley-gateway", ...bindings },
    redact: { paths: redactPaths, censor: "[redacted]" },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
