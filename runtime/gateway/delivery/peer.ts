/**
 * The sending side of the internal port: forwards deliveries to the gateway that holds the sockets, and asks
 * peers to forget cached state. A peer that refuses the internal secret is alive (a rotation is rolling through
 * the fleet): it is offered the previous value while that is in force.
 */
import { Agent, request } from "node:http";
import type { GatewayContext } from "../context";
import { presentedSecrets } from "../secrets";
import { errorMessage } from "../util";
import {
  deliverResponseSchema,
  INTERNAL_SECRET_HEADER,
  internalPaths,
  type Delivery,
  type Invalidation,
} from "./peer-protocol";

export class PeerUnavailableError extends Error {
  constructor(url: string, cause: string) {
    super(`peer ${url} did not answer: ${cause}`);
    this.name = "PeerUnavailableError";
  }
}

/** The peer answered, but refused every internal secret value this gateway may present (401/403). */
export class PeerRefusedError extends Error {
  constructor(
    url: string,
    readonly status: number,
  ) {
    super(`peer ${url} refused our internal secret: HTTP ${status}`);
    this.name = "PeerRefusedError";
  }
}

const isRefusal = (status: number): boolean => status === 401 || status === 403;
const isOk = (status: number): boolean => status >= 200 && status < 300;

/** A peer's answer, read whole (internal answers are a few bytes). */
export interface PeerAnswer {
  readonly status: number;
  readonly body: string;
}

/** Idle pooled sockets close before the peer's internal server would close them (Node's default 5 s keep-alive). */
const IDLE_SOCKET_MS = 4_000;

/**
 * One POST over `agent`. node:http, not fetch: a POST and its answer cost 0.073 ms of CPU here against fetch's
 * 0.31 ms (`npx tsx bench/peer-http-cost.ts`, client and server in one process), and a gateway makes about one per
 * message and one per connect.
 */
export function postOnce(
  agent: Agent,
  target: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
) {
  return new Promise<PeerAnswer>((resolve, reject) => {
    const req = request(
      target,
      { method: "POST", agent, headers: { ...headers, "content-length": String(Buffer.byteLength(body)) } },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (text += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on("error", reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end(body);
  });
}

export class PeerClient {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 64, timeout: IDLE_SOCKET_MS });

  constructor(private readonly ctx: GatewayContext) {}

  /** Closes the pooled sockets (the gateway's stop). */
  destroy(): void {
    this.agent.destroy();
  }

  /**
   * Hands `deliveries` to the gateway at `url` (one request, retried once on a 5xx or no answer); answers the
   * connection ids it does not hold. Throws PeerRefusedError or PeerUnavailableError.
   */
  async forward(url: string, deliveries: readonly Delivery[]): Promise<string[]> {
    let lastError = "";
    const body = JSON.stringify({ deliveries });
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const res = await this.post(url + internalPaths.deliver, body, this.ctx.settings.peerTimeoutMs);
        if (isOk(res.status)) return deliverResponseSchema.parse(JSON.parse(res.body)).missing;
        if (isRefusal(res.status)) throw new PeerRefusedError(url, res.status);
        lastError = `HTTP ${res.status}`;
        // A 4xx means we sent something wrong; retrying will not help.
        if (res.status < 500) break;
      } catch (err) {
        if (err instanceof PeerRefusedError) throw err;
        lastError = errorMessage(err);
      }
    }
    throw new PeerUnavailableError(url, lastError);
  }

  /**
   * Best effort: asks other live gateways to forget cached state — `userIds`' live connections, `contacts`'
   * co-member lists. A lost request is not retried here: callers bound the staleness it leaves by other means (a
   * new session's retries and catch-up, Presence#connected; a message notification naming a conversation a cached
   * contact list lacks). Answers whether every peer acknowledged it.
   */
  async invalidatePeers(peerUrls: readonly string[], what: Invalidation): Promise<boolean> {
    return (await this.unacknowledged(peerUrls, what)).length === 0;
  }

  /** The same request; answers the peers that did not acknowledge it (no answer, a refusal, a timeout). */
  async unacknowledged(peerUrls: readonly string[], what: Invalidation): Promise<string[]> {
    const body = JSON.stringify({
      userIds: what.userIds ?? [],
      contacts: what.contacts ?? [],
      conversations: what.conversations ?? [],
      changes: what.changes ?? [],
    } satisfies Required<Invalidation>);
    const answered = await Promise.all(
      peerUrls.map((url) =>
        this.post(
          url + internalPaths.invalidate,
          body,
          Math.min(this.ctx.settings.invalidateTimeoutMs, this.ctx.settings.peerTimeoutMs),
        ).then(
          (r) => isOk(r.status),
          () => false,
        ),
      ),
    );
    return peerUrls.filter((_, i) => !answered[i]);
  }

  /**
   * POSTs to a peer's internal endpoint with the current internal secret; a peer that refuses it (started
   * before a rotation) is asked again with the previous value while that is in force. Answers the last response.
   */
  private async post(target: string, body: string, timeoutMs: number): Promise<PeerAnswer> {
    const { internalSecret, internalSecretRotation } = this.ctx.config;
    const secrets = presentedSecrets(internalSecret, internalSecretRotation, this.ctx.now());
    for (let i = 0; ; i++) {
      const headers = { "content-type": "application/json", [INTERNAL_SECRET_HEADER]: secrets[i]! };
      const res = await postOnce(this.agent, target, headers, body, timeoutMs);
      if (i === secrets.length - 1 || !isRefusal(res.status)) return res;
    }
  }
}
