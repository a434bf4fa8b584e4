/** Raw HTTP over a socket, for requests fetch and ws refuse to send (thousands of headers, huge protocols). */
import { connect } from "node:net";

/** Sends `request` verbatim; resolves with the status line's code (0 when the server just closed). */
export function rawRequest(port: number, request: string | Buffer, timeoutMs = 10_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let text = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const finish = () => {
      clearTimeout(timer);
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      resolve(m ? Number(m[1]) : 0);
    };
    socket.on("data", (d) => {
      text += d.toString("latin1");
      if (/^HTTP\/1\.1 \d{3}/.test(text)) {
        socket.destroy();
        finish();
      }
    });
    socket.on("close", finish);
    socket.on("error", () => undefined);
    socket.write(request);
  });
}

/** Resident set size of a process in KiB (Linux ps). */
export async function rssKiB(pid: number): Promise<number> {
  const { execFileSync } = await import("node:child_process");
  return Number(execFileSync("ps", ["-o", "rss=", "-p", String(pid)], { encoding: "utf8" }).trim());
}
