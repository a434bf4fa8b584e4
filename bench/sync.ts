/** Reconnect-and-sync: how long a client that missed stored messages takes to get them all back. */
import WebSocket from "ws";
import type { LocalStack } from "../runtime/local/stack";
import { sleep } from "./clock";
import { nowMs } from "./load";
import { seedMissedMessages, seedSyncPair } from "./parley";
import type { SyncReport } from "./report";

/** A client misses `count` stored messages, then reconnects and syncs them; timed from the client's side. */
export async function measureSync(stack: LocalStack, runTag: string, count: number): Promise<SyncReport> {
  const pair = await seedSyncPair(stack, runTag);
  await seedMissedMessages(stack, pair.conversationId, pair.users[0], count);
  const gateway = stack.gateways[stack.gateways.length - 1]!;
  const opened = nowMs();
  let received = 0;
  let syncSent = 0;
  const ws = new WebSocket(gateway.url.replace(/^http/, "ws") + "/ws", ["parley.v1", "parley.auth." + pair.tokens[1]], {
    origin: gateway.url,
    perMessageDeflate: false,
  });
  const done = await Promise.race([
    new Promise<number>((resolve, reject) => {
      ws.once("error", reject);
      ws.on("message", (d) => {
        const f = JSON.parse(d.toString()) as { type: string };
        if (f.type === "ready") {
          syncSent = nowMs();
          ws.send(JSON.stringify({ type: "sync", cursors: [{ conversationId: pair.conversationId, afterSeq: 0 }] }));
        } else if (f.type === "message") received++;
        else if (f.type === "synced") resolve(nowMs());
      });
    }),
    sleep(30_000).then(() => NaN),
  ]);
  ws.close();
  return { missed: count, received, syncMs: done - syncSent, connectToSyncedMs: done - opened };
}
