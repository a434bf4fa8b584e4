/**
 * A gateway process whose derived settings a test overrides (argv[2]: JSON of Partial<GatewaySettings>), for
 * scenarios no env var reaches — e.g. a gateway that consumes no notifications. Config comes from the env as in
 * runtime/gateway/main.ts; SIGTERM stops it gracefully.
 */
import { loadGatewayConfig } from "../../../runtime/contracts";
import type { GatewaySettings } from "../../../runtime/gateway/context";
import { createLogger } from "../../../runtime/gateway/logger";
import { startGateway } from "../../../runtime/gateway/server";

async function main(): Promise<void> {
  const settings = JSON.parse(process.argv[2] ?? "{}") as Partial<GatewaySettings>;
  const config = loadGatewayConfig(process.env);
  const log = createLogger(config.logLevel);
  const gateway = await startGateway(config, { advertiseHost: "127.0.0.1", bindHost: "127.0.0.1", log, settings });
  process.on("SIGTERM", () => {
    gateway.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}

main().catch((err) => {
  console.error(String(err?.stack ?? err));
  process.exit(1);
});
