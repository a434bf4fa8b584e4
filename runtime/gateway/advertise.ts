/** Where peers reach this gateway: configured, else the ECS task's private IP, else loopback. */

export const ECS_METADATA_ENV = "ECS_CONTAINER_METADATA_URI_V4";

/** The task's private IP from the ECS task metadata endpoint (v4), where peers reach this task. */
export async function ecsTaskIp(metadataUri: string, timeoutMs = 3_000): Promise<string> {
  const res = await fetch(`${metadataUri}/task`, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`ECS metadata answered HTTP ${res.status}`);
  const task = (await res.json()) as { Containers?: { Networks?: { IPv4Addresses?: string[] }[] }[] };
  const ip = task.Containers?.[0]?.Networks?.[0]?.IPv4Addresses?.[0];
  if (!ip) throw new Error("ECS metadata has no Containers[0].Networks[0].IPv4Addresses[0]");
  return ip;
}

export async function resolveAdvertiseHost(
  configured: string | undefined,
  e: NodeJS.ProcessEnv,
  metadataTimeoutMs?: number,
): Promise<string> {
  if (configured) return configured;
  const metadata = e[ECS_METADATA_ENV]?.trim();
  if (metadata) return ecsTaskIp(metadata, metadataTimeoutMs);
  return "127.0.0.1";
}
