/**
 * Process entry: load config, resolve the address peers reach us at, start, and shut down gracefully on
 * SIGTERM/SIGINT (the ECS stop signal).
 */
import { ConfigError, loadGatewayConfig } from "../contracts";
import { createLogger } from "./logger";
import { resolveAdvertiseHost } from "./advertise";
import { startGateway } from "./server";

async function main(): Promise<void> {
  let config;
  try {
    config = loadGatewayConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(JSON.stringify({ level: "fatal", msg: "invalid configuration", error: err.message }));
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config.logLevel);
  const advertiseHost = await resolveAdvertiseHost(config.advertiseHost, process.env);
  const gateway = await startGateway(config, { advertiseHost, log });

  let signalled = false;
  const shutdown = (signal: string) => {
    if (signalled) return;
    signalled = true;
    log.info({ signal }, "shutting down");
    // Whatever happens, exit within a few seconds: ECS sends SIGKILL after its stop timeout.
    setTimeout(() => {
      log.warn("shutdown timed out; exiting");
      process.exit(1);
    }, 8_000).unref();
    gateway.stop().then(
      () => process.exit(0),
      (err) => {
        log.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

if (require.main === module) {
  main().catch((err) => {
    console.error(JSON.stringify({ level: "fatal", msg: "gateway failed to start", error: String(err?.stack ?? err) }));
    process.exit(1);
  });
}
