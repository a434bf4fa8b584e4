/**
 * Unit tests of where the gateway runs: the host it advertises to peers (config, ECS task metadata, loopback)
 * and its HTTP timeouts behind the load balancer.
 */
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import { resolveAdvertiseHost } from "../../../runtime/gateway/advertise";
import { httpTimeouts } from "../../../runtime/gateway/http-timeouts";
import { timing } from "../../support/timing";

describe("resolveAdvertiseHost", () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

  async function metadata(body: unknown): Promise<string> {
    server = createServer((req, res) => {
      if (req.url !== "/v4/abc/task") return void res.writeHead(404).end();
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    return `http://127.0.0.1:${(server.address() as { port: number }).port}/v4/abc`;
  }

  it("prefers the configured host, then the ECS task's private IP, then loopback", async () => {
    const uri = await metadata({ Containers: [{ Networks: [{ IPv4Addresses: ["10.0.3.7"] }] }] });
    expect(await resolveAdvertiseHost("gw.internal", { ECS_CONTAINER_METADATA_URI_V4: uri })).toBe("gw.internal");
    expect(await resolveAdvertiseHost(undefined, { ECS_CONTAINER_METADATA_URI_V4: uri }, timing.ms(15_000))).toBe(
      "10.0.3.7",
    );
    expect(await resolveAdvertiseHost(undefined, {})).toBe("127.0.0.1");
  });

  it("fails loudly when the metadata has no address", async () => {
    const uri = await metadata({ Containers: [] });
    await expect(
      resolveAdvertiseHost(undefined, { ECS_CONTAINER_METADATA_URI_V4: uri }, timing.ms(15_000)),
    ).rejects.toThrow(/IPv4Addresses/);
  });
});

describe("httpTimeouts", () => {
  test("keep-alive outlives the ALB idle timeout by 5 s, headers and request timeouts above it (else intermittent 502s)", () => {
    const t = httpTimeouts(120);
    expect(t.keepAliveTimeoutMs).toBe(125_000);
    expect(t.headersTimeoutMs).toBeGreaterThan(t.keepAliveTimeoutMs);
    expect(t.requestTimeoutMs).toBeGreaterThanOrEqual(t.headersTimeoutMs);
  });

  test("without a load balancer (local) the ALB default of 60 s applies: keep-alive 65 s, request timeout 30 s at least", () => {
    const t = httpTimeouts(60);
    expect(t.keepAliveTimeoutMs).toBe(65_000);
    expect(t.requestTimeoutMs).toBeGreaterThanOrEqual(30_000);
  });
});
