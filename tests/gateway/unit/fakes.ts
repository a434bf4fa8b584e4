/**
 * Fakes for the gateway unit tests in this folder: a config, a recording DynamoDB client and a context built on
 * them, so the pure parts run without emulators. The behaviour end to end is in the acceptance suites in
 * tests/gateway/.
 */
import { LOCAL_REGION, type GatewayConfig } from "../../../runtime/contracts";
import { deriveSettings, type GatewayContext } from "../../../runtime/gateway/context";

const silentLog = { debug() {}, info() {}, warn() {}, error() {}, child: () => silentLog } as never;

function fakeConfig(): GatewayConfig {
  return {
    aws: { region: LOCAL_REGION },
    tables: {
      users: "t-users",
      userNames: "t-user-names",
      conversations: "t-conversations",
      memberships: "t-memberships",
      messages: "t-messages",
      connections: "t-connections",
      auth: "t-auth",
    },
    inboundQueueUrl: "http://q/inbound.fifo",
    editWindowMs: 24 * 3600 * 1000,
    notifyQueueUrl: "http://q/notify",
    port: 0,
    internalPort: 0,
    bindHost: "127.0.0.1",
    jwtSecret: "j".repeat(32),
    internalSecret: "s".repeat(32),
    jwtIssuer: "parley",
    jwtAudience: "parley-web",
    tokenTtlSeconds: 3600,
    allowedOrigins: ["http://localhost:1"],
    logLevel: "silent",
    albIdleTimeoutSeconds: 60,
    limits: {
      maxPayloadBytes: 65536,
      rateLimitPerSecond: 20,
      rateLimitBurst: 40,
      maxConnectionsPerUser: 10,
      heartbeatMs: 25_000,
      presenceTtlSeconds: 90,
    },
  };
}
export /** A DynamoDB document client stand-in that records commands and answers from `reply`. */
function fakeDb(
  reply: (cmd: { constructor: { name: string }; input: Record<string, unknown> }) => unknown = () => ({}),
) {
  const sent: { name: string; input: Record<string, unknown> }[] = [];
  const ddb = {
    send: async (cmd: { constructor: { name: string }; input: Record<string, unknown> }) => {
      sent.push({ name: cmd.constructor.name, input: cmd.input });
      return reply(cmd);
    },
  };
  return { ddb, sent };
}
export function fakeContext(ddb: unknown, gatewayId = "gw-a"): GatewayContext {
  const config = fakeConfig();
  return {
    config,
    settings: deriveSettings(config),
    gatewayId,
    internalUrl: "http://127.0.0.1:1",
    db: { ddb: ddb as never, tables: config.tables },
    sqs: {} as never,
    log: silentLog,
    tokens: {} as never,
    now: Date.now,
  };
}
