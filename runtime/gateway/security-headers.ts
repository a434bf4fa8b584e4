/**
 * Headers every public gateway response carries (pages, assets, API, /healthz, refused upgrades): a strict
 * Content-Security-Policy for the client (no inline script or style anywhere in web/ — the build emits none),
 * no MIME sniffing, no referrer, no framing. docs/protocol.md lists them.
 */
import type { IncomingMessage, ServerResponse } from "node:http";

export const contentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  // The page's favicon is `data:,` (no request for /favicon.ico).
  "img-src 'self' data:",
  "font-src 'self'",
  // The WebSocket is same-origin; ws:/wss: because older browsers do not match them with 'self'.
  "connect-src 'self' ws: wss:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

export const securityHeaders: Readonly<Record<string, string>> = {
  "content-security-policy": contentSecurityPolicy,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
};

/** Sets the headers on `res` before any handler writes it; HSTS only when the request came in over HTTPS (ALB). */
export function applySecurityHeaders(req: IncomingMessage, res: ServerResponse): void {
  for (const [name, value] of Object.entries(securityHeaders)) res.setHeader(name, value);
  if (req.headers["x-forwarded-proto"] === "https") {
    res.setHeader("strict-transport-security", "max-age=31536000; includeSubDomains");
  }
}
