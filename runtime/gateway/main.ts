/**
 * Process entry: load config, resolve the address peers reach us at, start, and shut down gracefully on
 * SIGTERM/SIGINT (the ECS stop signal).
 */
import { ConfigError, loadGatewayConfig } from "../contracts";
import { createLogger } from "./logger";
import { startGateway } from "./server";

export const ECS_METADATA_ENV = "ECS_CONTAINER_METADATA_URI_V4";

/** The task's private IP from the ECS task metadata endpoint (v4), where peers reach this task. */
export async function ecsTaskIp(metadataUri: string): Promise<string> {
  const res = await fetch(`${metadataUri}/task`, { signal: AbortSignal.timeout(3_000) });
  if (!res.ok) throw new Error(`ECS metadata answered HTTP ${res.status}`);
  const task = (await res.json()) as { Containers?: { Networks?: { IPv4Addresses?: string[] }[] }[] };
  const ip = task.Containers?.[0]?.Networks?.[0]?.IPv4Addresses?.[0];
  if (!ip) throw new Error("ECS metadata has no Containers[0].Networks[0].IPv4Addresses[0]");
  return ip;
}

export async function resolveAdvertiseHost(configured: string | undefined, e: NodeJS.ProcessEnv): Promise<string> {
  if (configured) return configured;
  const metadata = e[ECS_METADATA_ENV]?.trim();
  if (metadata) return ecsTaskIp(metadata);
  return "127.0.0.1";
}

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
