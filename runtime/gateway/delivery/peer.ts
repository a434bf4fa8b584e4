/**
 * The sending side of the internal port: forwards deliveries to the gateway that holds the sockets, and asks
 * peers to forget cached state. A peer that refuses the internal secret is alive (a rotation is rolling through
 * the fleet): it is offered the previous value while that is in force.
 */
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

export class PeerClient {
  constructor(private readonly ctx: GatewayContext) {}

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
        if (res.ok) return deliverResponseSchema.parse(await res.json()).missing;
        await res.body?.cancel();
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
          async (r) => {
            await r.body?.cancel();
            return r.ok;
          },
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
  private async post(target: string, body: string, timeoutMs: number): Promise<Response> {
    const { internalSecret, internalSecretRotation } = this.ctx.config;
    const secrets = presentedSecrets(internalSecret, internalSecretRotation, this.ctx.now());
    for (let i = 0; ; i++) {
      const res = await fetch(target, {
        method: "POST",
        headers: { "content-type": "application/json", [INTERNAL_SECRET_HEADER]: secrets[i]! },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (i === secrets.length - 1 || !isRefusal(res.status)) return res;
      await res.body?.cancel();
    }
  }
}
