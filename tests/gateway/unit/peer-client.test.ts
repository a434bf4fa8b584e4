/**
 * PeerClient (runtime/gateway/delivery/peer.ts) against a real HTTP server standing in for a peer's internal port:
 * what a forward answers, what it retries, when it gives up, and which peers an invalidation counts as unanswered.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { PeerClient, PeerRefusedError, PeerUnavailableError } from "../../../runtime/gateway/delivery/peer";
import { INTERNAL_SECRET_HEADER, internalPaths } from "../../../runtime/gateway/delivery/peer-protocol";
import { fakeContext } from "./fakes";

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

const servers: Server[] = [];
/** A peer whose every request goes to `handle`; answers its base URL. */
async function peer(handle: Handler): Promise<string> {
  const server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (body += c));
    req.on("end", () => handle(req, body, res));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const ctx = fakeContext({});
const settings = { ...ctx.settings, peerTimeoutMs: 300, invalidateTimeoutMs: 200 };
let client: PeerClient;

beforeEach(() => {
  client = new PeerClient({ ...ctx, settings });
});
afterEach(() => client.destroy());
afterAll(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

const delivery = { connectionIds: ["c-1"], frame: `{"type":"message"}` };

test("a forward sends the secret and the deliveries, and answers the connections the peer lacks", async () => {
  const seen: { secret: unknown; body: unknown; path: string | undefined }[] = [];
  const url = await peer((req, body, res) => {
    seen.push({ secret: req.headers[INTERNAL_SECRET_HEADER], body: JSON.parse(body), path: req.url });
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ missing: ["c-1"] }));
  });
  await expect(client.forward(url, [delivery])).resolves.toEqual(["c-1"]);
  // The pooled socket is reused for the next one.
  await expect(client.forward(url, [delivery])).resolves.toEqual(["c-1"]);
  expect(seen).toEqual([
    { secret: ctx.config.internalSecret, body: { deliveries: [delivery] }, path: internalPaths.deliver },
    { secret: ctx.config.internalSecret, body: { deliveries: [delivery] }, path: internalPaths.deliver },
  ]);
});

test("a 5xx is retried once; a second one gives up with PeerUnavailableError", async () => {
  let calls = 0;
  const flaky = await peer((_req, _body, res) => {
    if (++calls === 1) return res.writeHead(503).end();
    res.writeHead(200).end(JSON.stringify({ missing: [] }));
  });
  await expect(client.forward(flaky, [delivery])).resolves.toEqual([]);
  expect(calls).toBe(2);
  const down = await peer((_req, _body, res) => res.writeHead(500).end());
  await expect(client.forward(down, [delivery])).rejects.toThrow(PeerUnavailableError);
});

test("a peer that never answers times out within peerTimeoutMs, twice, then is unavailable", async () => {
  const silent = await peer(() => undefined);
  const started = Date.now();
  await expect(client.forward(silent, [delivery])).rejects.toThrow(/no answer within 300 ms/);
  expect(Date.now() - started).toBeLessThan(2_000);
});

test("a refusal of the internal secret is PeerRefusedError, not retried as unavailable", async () => {
  let calls = 0;
  const refusing = await peer((_req, _body, res) => {
    calls++;
    res.writeHead(403).end();
  });
  await expect(client.forward(refusing, [delivery])).rejects.toThrow(PeerRefusedError);
  expect(calls).toBe(1);
});

test("an invalidation lists the peers that did not acknowledge it: refused, failed or silent", async () => {
  const bodies: unknown[] = [];
  const ok = await peer((_req, body, res) => {
    bodies.push(JSON.parse(body));
    res.writeHead(204).end();
  });
  const failing = await peer((_req, _body, res) => res.writeHead(500).end());
  const silent = await peer(() => undefined);
  const refused = await peer((_req, _body, res) => res.writeHead(401).end());
  const missed = await client.unacknowledged([ok, failing, silent, refused], { userIds: ["u-1"] });
  expect(missed).toEqual([failing, silent, refused]);
  expect(bodies).toEqual([{ userIds: ["u-1"], contacts: [], conversations: [], changes: [] }]);
  await expect(client.invalidatePeers([ok], { contacts: ["u-2"] })).resolves.toBe(true);
});
