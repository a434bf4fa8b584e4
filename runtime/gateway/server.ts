/**
 * One gateway: the public server (HTTP API, WebSocket upgrade on /ws, static web client, /healthz and the load
 * balancer's health check), the internal server for peer deliveries, the notification consumer and presence.
 * startGateway → stop(). Deregistration from the load balancer starts a drain before SIGTERM (drain.ts).
 */
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { WebSocketServer } from "ws";
import { createDynamoClient, createSqsClient, type DocumentClient } from "../aws/clients";
import { isTokenRevoked } from "../store/auth";
import { LB_HEALTH_PATH, WS_AUTH_PROTOCOL_PREFIX, WS_PATH, WS_PROTOCOL, type GatewayConfig } from "../contracts";
import { AuthError, TokenService } from "./auth";
import { deriveSettings, type GatewayContext, type GatewaySettings } from "./context";
import { NotificationConsumer } from "./delivery/consumer";
import { ConnectionDirectory, MemberCache } from "./delivery/directory";
import { createInternalHandler } from "./delivery/internal";
import { PeerClient } from "./delivery/peer";
import { Router } from "./delivery/routing";
import { closeGoingAway, DeregistrationWatchdog, SpreadDrain } from "./drain";
import { createApi } from "./http-api";
import { httpTimeouts } from "./http-timeouts";
import { sendError, sendJson } from "./http-util";
import { createLogger, type Logger } from "./logger";
import { Contacts } from "./presence/contacts";
import { Presence } from "./presence/presence";
import { GatewayRegistry, PeerList } from "./presence/registry";
import { InboundSender } from "./inbound";
import { LocalSessions } from "./sessions";
import { applySecurityHeaders, securityHeaders } from "./security-headers";
import { createStaticHandler } from "./static";
import { errorMessage } from "./util";
import { Session } from "./ws-session";

export interface StartOptions {
  /** Host peers use to reach the internal port; main.ts resolves it (ECS metadata) when config lacks it. */
  readonly advertiseHost?: string;
  readonly log?: Logger;
  readonly settings?: Partial<GatewaySettings>;
  /** Interface to bind both servers on. */
  readonly bindHost?: string;
  /**
   * Wraps the SDK clients the gateway builds, before any part sees them. Tests use it to put AWS behaviours the
   * emulators lack (1 MB pages, index lag, unprocessed batch items) or faults in front of the real clients.
   */
  readonly wrapClients?: {
    readonly ddb?: (client: DocumentClient) => DocumentClient;
    readonly sqs?: (client: SQSClient) => SQSClient;
  };
}

export interface RunningGateway {
  readonly gatewayId: string;
  readonly port: number;
  readonly internalPort: number;
  readonly internalUrl: string;
  /** Graceful: stop accepting, close sockets with 1001, remove records, finish in-flight work. */
  stop(): Promise<void>;
}

async function listen(server: Server, port: number, host: string): Promise<number> {
  server.listen(port, host);
  await once(server, "listening");
  return (server.address() as { port: number }).port;
}

/**
 * Defined out here, not as a closure in the upgrade handler: a closure there would share the handler's scope
 * and keep the upgrade request (headers, token included) alive for as long as the socket lives.
 */
function destroyOnError(this: Duplex): void {
  this.destroy();
}

/** Answers a refused upgrade with a real HTTP status, so clients and tests can tell why. */
function refuseUpgrade(socket: Duplex, status: number, code: string, message: string): void {
  const body = JSON.stringify({ error: { code, message } });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
      "Connection: close\r\n" +
      "Content-Type: application/json\r\n" +
      Object.entries(securityHeaders)
        .map(([name, value]) => `${name}: ${value}\r\n`)
        .join("") +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n` +
      body,
  );
}

export function offeredProtocols(req: IncomingMessage): string[] {
  const header = req.headers["sec-websocket-protocol"];
  return (typeof header === "string" ? header : "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

export async function startGateway(config: GatewayConfig, opts: StartOptions = {}): Promise<RunningGateway> {
  const gatewayId = config.gatewayId ?? `gw-${randomBytes(6).toString("hex")}`;
  const log = (opts.log ?? createLogger(config.logLevel)).child({ gatewayId });
  const bindHost = opts.bindHost ?? config.bindHost;
  const settings = deriveSettings(config, opts.settings);
  const advertiseHost = opts.advertiseHost ?? config.advertiseHost ?? "127.0.0.1";

  // The handler needs the context, which needs the internal port this server is about to get.
  const internal: { handle?: ReturnType<typeof createInternalHandler> } = {};
  const internalServer = createServer((req, res) => {
    if (!internal.handle) return sendError(res, 503, "UNAVAILABLE", "starting");
    void internal.handle(req, res);
  });
  const internalPort = await listen(internalServer, config.internalPort, bindHost);
  const internalUrl = `http://${advertiseHost.includes(":") ? `[${advertiseHost}]` : advertiseHost}:${internalPort}`;

  const ddb = createDynamoClient(config.aws);
  const sqs = createSqsClient(config.aws);
  const pollSqs = createSqsClient(config.aws, "long polls");
  const ctx: GatewayContext = {
    config,
    settings,
    gatewayId,
    internalUrl,
    db: { ddb: opts.wrapClients?.ddb?.(ddb) ?? ddb, tables: config.tables },
    sqs: opts.wrapClients?.sqs?.(sqs) ?? sqs,
    pollSqs: opts.wrapClients?.sqs?.(pollSqs) ?? pollSqs,
    log,
    // Every verification (HTTP route, upgrade) also asks the auth table whether logout revoked the token.
    tokens: new TokenService(
      {
        secret: config.jwtSecret,
        rotation: config.jwtSecretRotation,
        now: () => ctx.now(),
        issuer: config.jwtIssuer,
        audience: config.jwtAudience,
        ttlSeconds: config.tokenTtlSeconds,
      },
      (tokenId) => isTokenRevoked(ctx.db, tokenId, ctx.now()),
    ),
    now: Date.now,
  };
  const sessions = new LocalSessions<Session>();
  const directory = new ConnectionDirectory(ctx);
  const members = new MemberCache(ctx);
  const peerClient = new PeerClient(ctx);
  const peers = new PeerList(ctx, directory.liveness);
  const contacts = new Contacts(ctx, { peers, peerClient });
  // Records the router finds stale are removed there; presence decides whether their users went offline.
  const router = new Router(ctx, sessions, directory, {
    peers: peerClient,
    onRecordsRemoved: (userIds, removed) => presence.recordsRemoved(userIds, removed),
  });
  const presence = new Presence(ctx, { sessions, directory, router, contacts, peers, peerClient });
  const registry = new GatewayRegistry(ctx, { directory, peers, connections: presence });
  const consumer = new NotificationConsumer(ctx, directory, router, contacts, { members, peers, peerClient });
  const handleApi = createApi(ctx, { directory, members, contacts, router });
  const serveStatic = createStaticHandler(config.webDir);
  internal.handle = createInternalHandler(ctx, { sessions, directory, contacts, members });

  await registry.start();
  presence.start();

  // Draining: new upgrades are refused, /healthz says 503, open sockets are being closed with 1001.
  let draining = false;
  let drain: SpreadDrain | undefined;
  const startDrain = (why: string) => {
    if (draining) return;
    draining = true;
    log.info({ why, sockets: sessions.size, spreadMs: settings.drain.drainSpreadMs }, "draining");
    drain = new SpreadDrain(sessions.all(), settings.drain.drainSpreadMs);
    server.closeIdleConnections();
  };
  const watchdog = new DeregistrationWatchdog(settings.drain, () =>
    startDrain("no load balancer health check: deregistered"),
  );
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: config.limits.maxPayloadBytes,
    perMessageDeflate: false,
    clientTracking: false,
    handleProtocols: (offered) => (offered.has(WS_PROTOCOL) ? WS_PROTOCOL : false),
  });

  const server = createServer((req, res) => {
    applySecurityHeaders(req, res);
    let url: URL;
    try {
      url = new URL(req.url ?? "/", "http://gateway");
    } catch {
      return sendError(res, 400, "VALIDATION", "malformed URL");
    }
    // No keep-alive while draining: the ALB finishes deregistering as soon as no connection is left open.
    if (draining) res.setHeader("connection", "close");
    if (url.pathname === LB_HEALTH_PATH) watchdog.healthChecked();
    if (url.pathname === "/healthz" || url.pathname === LB_HEALTH_PATH) {
      return sendJson(res, draining ? 503 : 200, { ok: !draining, draining, gatewayId, nonce: config.healthNonce });
    }
    if (url.pathname === "/api" || url.pathname.startsWith("/api/")) return void handleApi(req, res, url);
    return void serveStatic(req, res, url);
  });
  // Longer than the ALB's idle timeout, so the load balancer never reuses a connection we just closed.
  const timeouts = httpTimeouts(config.albIdleTimeoutSeconds);
  server.keepAliveTimeout = timeouts.keepAliveTimeoutMs;
  server.headersTimeout = timeouts.headersTimeoutMs;
  server.requestTimeout = timeouts.requestTimeoutMs;

  const deps = { sessions, presence, router, members, directory, contacts, inbound: new InboundSender(ctx) };
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", destroyOnError);
    void (async () => {
      const path = (req.url ?? "").split("?")[0];
      if (path !== WS_PATH) return refuseUpgrade(socket, 404, "NOT_FOUND", `WebSocket endpoint is ${WS_PATH}`);
      if (draining) return refuseUpgrade(socket, 503, "UNAVAILABLE", "gateway shutting down");
      const origin = req.headers.origin;
      if (!origin || !config.allowedOrigins.includes(origin)) {
        return refuseUpgrade(socket, 403, "FORBIDDEN", "origin not allowed");
      }
      const offered = offeredProtocols(req);
      const auth = offered.find((p) => p.startsWith(WS_AUTH_PROTOCOL_PREFIX));
      if (!offered.includes(WS_PROTOCOL) || !auth) {
        return refuseUpgrade(
          socket,
          401,
          "UNAUTHENTICATED",
          `offer subprotocols ${WS_PROTOCOL} and ${WS_AUTH_PROTOCOL_PREFIX}<token>`,
        );
      }
      let verified;
      try {
        verified = await ctx.tokens.verify(auth.slice(WS_AUTH_PROTOCOL_PREFIX.length));
      } catch (err) {
        if (err instanceof AuthError) return refuseUpgrade(socket, 401, "UNAUTHENTICATED", err.message);
        throw err;
      }
      if (draining) return refuseUpgrade(socket, 503, "UNAVAILABLE", "gateway shutting down");
      wss.handleUpgrade(req, socket, head, (ws) => {
        // Upgraded while the drain began: this socket was not in the drain's list, so it goes now.
        if (draining) return closeGoingAway(ws);
        const session = new Session(ctx, deps, ws, verified.userId, verified.expiresAt);
        void session.open();
      });
    })().catch((err) => {
      log.error({ err: errorMessage(err) }, "upgrade failed");
      refuseUpgrade(socket, 503, "UNAVAILABLE", "try again");
    });
  });

  const port = await listen(server, config.port, bindHost);
  consumer.start();

  const pinger = setInterval(() => {
    for (const s of sessions.all()) s.heartbeat();
  }, settings.heartbeatMs);
  pinger.unref();

  log.info({ port, internalPort, internalUrl }, "gateway listening");

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      watchdog.stop();
      startDrain("stop");
      clearInterval(pinger);
      const closed = new Promise<void>((r) => server.close(() => r()));
      // The consumer finishes its receives in flight (routing to peers' sockets) while ours are closed: our
      // clients reconnect elsewhere and sync, so nothing is lost to them.
      const consumerStopped = consumer.stop();
      // SIGTERM comes after the deregistration delay (or once no connection was left): close what remains now.
      drain?.finishNow();
      // Give clients a moment to answer the close handshake; Session terminates stragglers itself.
      for (let i = 0; i < 40 && sessions.size > 0; i++) await new Promise((r) => setTimeout(r, 25));
      await consumerStopped;
      await registry.stop();
      await presence.stop();
      await registry.deregister();
      server.closeAllConnections();
      await closed;
      await new Promise<void>((r) => {
        internalServer.close(() => r());
        internalServer.closeAllConnections();
      });
      peerClient.destroy();
      ddb.destroy();
      sqs.destroy();
      pollSqs.destroy();
      log.info("gateway stopped");
    })());

  return { gatewayId, port, internalPort, internalUrl, stop };
}
