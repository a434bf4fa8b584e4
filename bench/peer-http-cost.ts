/**
 * `tsx bench/peer-http-cost.ts [requests]` — what one gateway → gateway POST costs on this machine with `fetch` and
 * with `postOnce` over a keep-alive Agent (what `runtime/gateway/delivery/peer.ts` sends): CPU per request and
 * answer, client and server in this one process, a forward-sized body, three interleaved rounds (median printed).
 */
import { Agent, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { postOnce } from "../runtime/gateway/delivery/peer";

const ROUNDS = 3;
const body = JSON.stringify({
  deliveries: [{ connectionIds: ["c-1"], frame: JSON.stringify({ body: "x".repeat(100) }) }],
});

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

async function main(requests: number): Promise<void> {
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(200, { "content-type": "application/json" }).end('{"missing":[]}'));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/internal/deliver`;
  const headers = { "content-type": "application/json" };
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const viaFetch = async () => {
    const res = await fetch(url, { method: "POST", headers, body, signal: AbortSignal.timeout(2_000) });
    return res.json();
  };
  const viaHttp = async () => JSON.parse((await postOnce(agent, url, headers, body, 2_000)).body) as unknown;
  const cases: [string, () => Promise<unknown>][] = [
    ["fetch", viaFetch],
    ["node:http, keep-alive Agent (peer.ts postOnce)", viaHttp],
  ];
  const samples = cases.map((): number[] => []);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [k, [, send]] of cases.entries()) {
      for (let i = 0; i < 200; i++) await send(); // warm-up: JIT, pooled sockets
      const c0 = cpuMs();
      for (let i = 0; i < requests; i++) await send();
      samples[k]!.push((cpuMs() - c0) / requests);
    }
  }
  console.log("| client | requests | CPU ms per request and answer (median of 3) |");
  console.log("|---|---|---|");
  for (const [k, [name]] of cases.entries()) {
    const sorted = [...samples[k]!].sort((a, b) => a - b);
    console.log(`| ${name} | ${requests} | ${sorted[sorted.length >> 1]!.toFixed(3)} |`);
  }
  agent.destroy();
  server.close();
}

main(Number(process.argv[2] ?? 3000)).then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
