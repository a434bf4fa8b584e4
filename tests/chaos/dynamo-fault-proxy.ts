/**
 * A DynamoDB fault injector for the chaos scenarios: an HTTP proxy in front of the emulator that forwards every
 * request unchanged, except the ones an armed rule matches, which it answers with DynamoDB's own 500
 * InternalServerError (a transient error: the SDK retries it, then the persister fails the record). A process
 * pointed at it (PARLEY_DYNAMODB_ENDPOINT) sees one precise transient failure instead of a whole outage.
 */
import { createServer, request, Agent, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface FaultRule {
  /** The request's X-Amz-Target operation, e.g. "PutItem". */
  readonly operation: string;
  /** Only requests whose JSON body contains this text (e.g. a clientMessageId). */
  readonly bodyContains: string;
}

export interface DynamoFaultProxy {
  readonly endpoint: string;
  /**
   * Arms a rule: matching requests fail until the returned function disarms it. (Disarm once the consumer gave
   * up on the call — the SDK retries a 500 up to its maxAttempts, 4 for DynamoDB — to fail exactly one attempt.)
   */
  arm(rule: FaultRule): () => void;
  /** Requests failed by the proxy so far. */
  injected(): number;
  close(): Promise<void>;
}

const injectedError = JSON.stringify({
  __type: "com.amazonaws.dynamodb.v20120810#InternalServerError",
  message: "Internal server error (injected by the chaos fault proxy)",
});

/** `target()` is read per request, so the proxy follows an emulator restarted on another port. */
export async function startDynamoFaultProxy(target: () => string): Promise<DynamoFaultProxy> {
  const rules = new Set<FaultRule>();
  let injected = 0;
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });

  const handle = (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    const operation = String(req.headers["x-amz-target"] ?? "").split(".")[1] ?? "";
    const text = body.toString("utf8");
    const hit = [...rules].some((r) => r.operation === operation && text.includes(r.bodyContains));
    if (hit) {
      injected++;
      res.writeHead(500, { "content-type": "application/x-amz-json-1.0", "x-amzn-requestid": `chaos-${injected}` });
      res.end(injectedError);
      return;
    }
    const url = new URL(req.url ?? "/", target());
    const upstream = request(url, { method: req.method, headers: { ...req.headers, host: url.host }, agent }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on("error", (err) => {
      // The emulator is down: look like a refused connection, as the SDK would see without the proxy.
      if (!res.headersSent) res.writeHead(503, { "content-type": "text/plain" });
      res.end(String(err));
    });
    upstream.end(body);
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => handle(req, res, Buffer.concat(chunks)));
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    arm: (rule) => {
      const own = { ...rule };
      rules.add(own);
      return () => rules.delete(own);
    },
    injected: () => injected,
    close: async () => {
      agent.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
