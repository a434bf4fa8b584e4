/**
 * Baseline (a): the simplest possible chat relay — a plain `ws` server that keeps rooms in memory and
 * broadcasts each message to the other members of its room. No auth, no storage, no ordering guarantees beyond
 * TCP. Run as its own process (`tsx bench/baselines/relay.ts`) so its CPU and memory are metered alone.
 */
import { createServer, type Server } from "node:http";
import { once } from "node:events";
import { WebSocketServer, type WebSocket } from "ws";

export interface RelayServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startRelay(port = 0): Promise<RelayServer> {
  const http: Server = createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ server: http, perMessageDeflate: false, maxPayload: 64 * 1024 });
  const rooms = new Map<string, Set<WebSocket>>();
  wss.on("connection", (ws, req) => {
    const q = new URL(req.url ?? "/", "http://relay").searchParams;
    const user = q.get("user") ?? "anonymous";
    const room = q.get("room");
    if (!room) return ws.close(1008, "room required");
    let members = rooms.get(room);
    if (!members) rooms.set(room, (members = new Set()));
    members.add(ws);
    ws.on("close", () => {
      members.delete(ws);
      if (!members.size) rooms.delete(room);
    });
    ws.on("message", (data) => {
      let f: { type?: string; room?: string; body?: string };
      try {
        f = JSON.parse(data.toString()) as typeof f;
      } catch {
        return;
      }
      if (f.type !== "send" || f.room !== room || typeof f.body !== "string") return;
      // Serialized once, sent to every other member: the same shortcut Parley's router takes.
      const frame = JSON.stringify({ type: "message", room, senderId: user, body: f.body });
      for (const peer of members) if (peer !== ws && peer.readyState === peer.OPEN) peer.send(frame);
    });
    ws.send(JSON.stringify({ type: "ready" }));
  });
  http.listen(port, "127.0.0.1");
  await once(http, "listening");
  return {
    port: (http.address() as { port: number }).port,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
      await new Promise<void>((r) => http.close(() => r()));
    },
  };
}

if (require.main === module) {
  void startRelay(Number(process.env.PORT ?? 0)).then((s) => {
    console.log(`listening ${s.port}`);
    process.on("SIGTERM", () => void s.close().then(() => process.exit(0)));
  });
}
