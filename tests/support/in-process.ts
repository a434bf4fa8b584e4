/**
 * Gateways started in this test process (startGateway) against the emulators, with their SDK clients wrapped —
 * by the AWS-rules layer (tests/support/aws-faults.ts) or an injected failing client. Users and tokens are made
 * directly, without scrypt.
 */
import { randomBytes } from "node:crypto";
import { env, loadGatewayConfig, type GatewayConfig } from "../../runtime/contracts";
import type { GatewaySettings } from "../../runtime/gateway/context";
import { createLogger } from "../../runtime/gateway/logger";
import { startGateway, type RunningGateway, type StartOptions } from "../../runtime/gateway/server";
import { localEnv } from "../../runtime/local/provision";
import { mintToken, storeUser, uniqueName, type TestUser } from "./users";
import type { Emulated } from "./emulated";

export interface InProcessGateway extends RunningGateway {
  readonly url: string;
  readonly config: GatewayConfig;
}

export interface GatewayFactory {
  readonly jwtSecret: string;
  start(opts?: {
    settings?: Partial<GatewaySettings>;
    wrapClients?: StartOptions["wrapClients"];
    env?: Record<string, string>;
  }): Promise<InProcessGateway>;
  user(stem: string): Promise<TestUser>;
}

export function inProcessGateways(em: Emulated): GatewayFactory {
  const jwtSecret = randomBytes(32).toString("base64url");
  const internalSecret = randomBytes(32).toString("base64url");
  const baseEnv = localEnv(em.provisioned, {
    sqs: em.emulators.sqs.endpoint,
    dynamodb: em.emulators.dynamodb.endpoint,
  });
  return {
    jwtSecret,
    async start(opts = {}) {
      // Port 0 for both servers; the origin allowlist is set after the port is known (it is read per request).
      const config = loadGatewayConfig({
        ...baseEnv,
        [env.jwtSecret]: jwtSecret,
        [env.internalSecret]: internalSecret,
        [env.allowedOrigins]: "http://127.0.0.1:1",
        [env.port]: "0",
        [env.internalPort]: "0",
        [env.logLevel]: "silent",
        [env.rateLimitPerSecond]: "5000",
        [env.rateLimitBurst]: "5000",
        ...opts.env,
      });
      const gw = await startGateway(config, {
        advertiseHost: "127.0.0.1",
        bindHost: "127.0.0.1",
        log: createLogger(process.env.PARLEY_TEST_LOG ?? "silent"),
        settings: opts.settings,
        wrapClients: opts.wrapClients,
      });
      const url = `http://127.0.0.1:${gw.port}`;
      (config.allowedOrigins as string[]).push(url);
      return { ...gw, url, config };
    },
    async user(stem) {
      const userId = uniqueName(stem);
      await storeUser(em.db, userId);
      return { userId, token: mintToken(jwtSecret, userId) };
    },
  };
}
