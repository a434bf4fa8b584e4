/**
 * Baseline (b): Socket.IO with rooms, compression off (perMessageDeflate and httpCompression), websocket
 * transport only. Like the relay it keeps nothing. Run as its own process (`tsx bench/baselines/socketio.ts`).
 */
import { createServer } from "node:http";
import { once } from "node:events";
import { Server } from "socket.io";

export interface SocketIoServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startSocketIo(port = 0): Promise<SocketIoServer> {
  const http = createServer();
  const ioServer = new Server(http, {
    transports: ["websocket"],
    perMessageDeflate: false,
    httpCompression: false,
    serveClient: false,
    maxHttpBufferSize: 64 * 1024,
  });
  ioServer.on("connection", (socket) => {
    const user = String(socket.handshake.query.user ?? "anonymous");
    const room = socket.handshake.query.room;
    if (typeof room !== "string" || !room) return void socket.disconnect(true);
    void socket.join(room);
    socket.on("send", (m: { room?: string; body?: string }) => {
      if (m?.room !== room || typeof m.body !== "string") return;
      socket.to(room).emit("message", { room, senderId: user, body: m.body });
    });
  });
  http.listen(port, "127.0.0.1");
  await once(http, "listening");
  return {
    port: (http.address() as { port: number }).port,
    close: async () => {
      ioServer.disconnectSockets(true);
      await new Promise<void>((r) => ioServer.close(() => r()));
    },
  };
}

if (require.main === module) {
  void startSocketIo(Number(process.env.PORT ?? 0)).then((s) => {
    console.log(`listening ${s.port}`);
    process.on("SIGTERM", () => void s.close().then(() => process.exit(0)));
  });
}
