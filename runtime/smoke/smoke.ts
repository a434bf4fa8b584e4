/**
 * The end-to-end smoke test, the same code for the local stack and an ephemeral AWS stack: two fresh
 * users, one direct conversation, messages both ways over WebSocket, then order and persistence
 * through the history API. Every network wait has a deadline, and every failure names its step.
 */
import { randomBytes } from "node:crypto";
import { z } from "zod";
import { describeZodError, directConversationId, type ServerFrame } from "../contracts";
import { describeError, SmokeStepError, SmokeTimeoutError, type SmokeStepName } from "./errors";
import { requestJson } from "./http";
import { SmokeSocket } from "./socket";

export { SmokeStepError, smokeSteps, type SmokeStepName } from "./errors";

export interface SmokeOptions {
  /** Progress lines (never tokens or passwords). */
  readonly log?: (line: string) => void;
  /** Deadline for each request or awaited frame. */
  readonly timeoutMs?: number;
  /**
   * How long `health` keeps retrying before giving up. A fresh cloud stack needs this (DNS not yet
   * propagated, ALB targets still registering); 0 fails on the first error, so a stopped local
   * stack fails fast.
   */
  readonly readyTimeoutMs?: number;
  /** Messages each user sends; they alternate, so the conversation holds twice this many. */
  readonly messagesPerUser?: number;
  /**
   * Base URL the second user talks to (another gateway of the same stack). Locally this makes the
   * messages cross gateways, as they do behind a load balancer; default: `baseUrl`.
   */
  readonly peerUrl?: string;
  /** Aborts in-flight requests, e.g. when the caller's overall deadline passes. */
  readonly signal?: AbortSignal;
}

export interface SmokeResult {
  readonly origin: string;
  /** As /healthz reported them: one per distinct origin (behind a load balancer, whichever answered). */
  readonly gatewayIds: readonly string[];
  readonly conversationId: string;
  readonly userIds: readonly [string, string];
  readonly messageCount: number;
  readonly steps: readonly { readonly name: SmokeStepName; readonly ms: number }[];
  readonly durationMs: number;
}

export const smokeDefaults = { timeoutMs: 10_000, readyTimeoutMs: 0, messagesPerUser: 3 } as const;
const READY_RETRY_MS = 2_000;

const healthSchema = z.object({ ok: z.literal(true), gatewayId: z.string() });
const userSchema = z.object({ userId: z.string(), displayName: z.string() });
const authSchema = z.object({ token: z.string().min(1), user: userSchema });
const meSchema = z.object({ user: userSchema });
const conversationSchema = z.object({
  conversationId: z.string(),
  kind: z.string(),
  memberIds: z.array(z.string()),
  lastSeq: z.number(),
});
const createConversationSchema = z.object({ conversation: conversationSchema });
const conversationsSchema = z.object({ conversations: z.array(conversationSchema) });
const storedMessageSchema = z.object({
  conversationId: z.string(),
  seq: z.number(),
  senderId: z.string(),
  clientMessageId: z.string(),
  body: z.string(),
  sentAt: z.number(),
  storedAt: z.number(),
});
const historySchema = z.object({ messages: z.array(storedMessageSchema), hasMore: z.boolean() });

type MessageFrame = Extract<ServerFrame, { type: "message" }>;

interface SentMessage {
  readonly seq: number;
  readonly senderId: string;
  readonly clientMessageId: string;
  readonly body: string;
}

interface Participant {
  readonly userId: string;
  readonly origin: string;
  readonly password: string;
  token: string;
  socket?: SmokeSocket;
}

export async function runSmoke(baseUrl: string, options: SmokeOptions = {}): Promise<SmokeResult> {
  const { timeoutMs, readyTimeoutMs, messagesPerUser } = { ...smokeDefaults, ...withoutUndefined(options) };
  const log = options.log ?? (() => undefined);
  const origin = originOf(baseUrl);
  const peerOrigin = options.peerUrl === undefined ? origin : originOf(options.peerUrl);
  const started = Date.now();
  const steps: { name: SmokeStepName; ms: number }[] = [];

  const step = async <T>(name: SmokeStepName, run: () => Promise<T>): Promise<T> => {
    const t0 = Date.now();
    try {
      options.signal?.throwIfAborted();
      const result = await run();
      const ms = Date.now() - t0;
      steps.push({ name, ms });
      log(`step ${name}: ok (${ms} ms)`);
      return result;
    } catch (err) {
      throw new SmokeStepError(name, describeError(err), { cause: err });
    }
  };

  const api = async <S extends z.ZodType>(
    method: "GET" | "POST",
    path: string,
    schema: S,
    extra: { token?: string; body?: unknown; expectStatus?: number[]; via?: string } = {},
  ): Promise<z.infer<S>> => {
    const res = await requestJson(extra.via ?? origin, method, path, { ...extra, timeoutMs, signal: options.signal });
    const label = `${method} ${path.split("?")[0]}`;
    if (extra.expectStatus && !extra.expectStatus.includes(res.status)) {
      throw new Error(`${label} → HTTP ${res.status}, expected ${extra.expectStatus.join(" or ")}`);
    }
    const parsed = schema.safeParse(res.body);
    if (!parsed.success) {
      throw new Error(`${label} returned an unexpected body: ${describeZodError(parsed.error, { root: "(root)" })}`);
    }
    return parsed.data;
  };

  log(`smoke test against ${origin}${peerOrigin === origin ? "" : ` and ${peerOrigin}`}`);
  const gatewayIds = await step("health", async () => {
    const deadline = Date.now() + readyTimeoutMs;
    const ids: string[] = [];
    for (const via of new Set([origin, peerOrigin])) {
      for (let attempt = 1; ; attempt++) {
        try {
          ids.push((await api("GET", "/healthz", healthSchema, { via })).gatewayId);
          break;
        } catch (err) {
          if (Date.now() + READY_RETRY_MS > deadline) {
            throw attempt === 1 ? err : new Error(`not ready after ${attempt} attempts: ${describeError(err)}`);
          }
          log(`step health: ${via} not ready yet (${describeError(err)}), retrying`);
          await delay(READY_RETRY_MS, options.signal);
        }
      }
    }
    return ids;
  });

  const suffix = randomSuffix();
  const people: [Participant, Participant] = [
    { userId: `smoke_${suffix}_a`, origin, password: randomBytes(18).toString("base64url"), token: "" },
    { userId: `smoke_${suffix}_b`, origin: peerOrigin, password: randomBytes(18).toString("base64url"), token: "" },
  ];
  const [alice, bob] = people;

  try {
    await step("signup", async () => {
      for (const [i, p] of people.entries()) {
        const res = await api("POST", "/api/signup", authSchema, {
          body: { username: p.userId, password: p.password, displayName: `Smoke ${i === 0 ? "A" : "B"} ${suffix}` },
          expectStatus: [201],
          via: p.origin,
        });
        if (res.user.userId !== p.userId) {
          throw new Error(`signed up as "${res.user.userId}", expected "${p.userId}"`);
        }
        p.token = res.token;
      }
    });

    await step("login", async () => {
      const res = await api("POST", "/api/login", authSchema, {
        body: { username: alice.userId, password: alice.password },
      });
      const me = await api("GET", "/api/me", meSchema, { token: res.token });
      if (me.user.userId !== alice.userId) {
        throw new Error(`GET /api/me answered "${me.user.userId}", expected "${alice.userId}"`);
      }
      alice.token = res.token;
    });

    const conversationId = await step("conversation", async () => {
      const { conversation } = await api("POST", "/api/conversations", createConversationSchema, {
        token: alice.token,
        body: { kind: "direct", userId: bob.userId },
        expectStatus: [200, 201],
      });
      const expected = directConversationId(alice.userId, bob.userId);
      if (conversation.conversationId !== expected) {
        throw new Error(`created "${conversation.conversationId}", expected "${expected}"`);
      }
      const members = [...conversation.memberIds].sort().join(",");
      if (members !== [alice.userId, bob.userId].sort().join(",")) {
        throw new Error(`members are [${members}], expected both users`);
      }
      return conversation.conversationId;
    });

    await step("connect", async () => {
      // One after the other, so the second user's connect finds the first one registered.
      for (const p of people) {
        const label = `${p.userId}'s socket`;
        p.socket = await SmokeSocket.open({ origin: p.origin, token: p.token, label, timeoutMs });
        const ready = await p.socket.waitFor("ready", isFrame("ready"), timeoutMs);
        // The protocol puts `ready` first. A presence announcement racing the handshake may beat it
        // (seen against the local gateways); it is ephemeral and harmless, so only that is let through.
        const early = p.socket.frames.slice(0, p.socket.frames.indexOf(ready)).find((f) => f.type !== "presence");
        if (early) throw new Error(`${label}: received "${early.type}" before "ready"`);
        if (ready.userId !== p.userId) throw new Error(`${label}: ready for "${ready.userId}"`);
        // What every client does after connecting; it also proves the connection is registered.
        p.socket.send({ type: "sync", cursors: [{ conversationId, afterSeq: 0 }] });
        const synced = await p.socket.waitFor("synced", isFrame("synced"), timeoutMs);
        const cursor = synced.cursors.find((c) => c.conversationId === conversationId);
        if (cursor && cursor.lastSeq !== 0) {
          throw new Error(`${label}: synced a new conversation at lastSeq ${cursor.lastSeq}, expected 0`);
        }
      }
    });

    const sent = await step("exchange", async () => {
      const sent: SentMessage[] = [];
      for (let round = 1; round <= messagesPerUser; round++) {
        for (const [sender, recipient] of [
          [alice, bob],
          [bob, alice],
        ] as const) {
          const clientMessageId = `smoke-${suffix}-${sender === alice ? "a" : "b"}${round}`;
          const body = `smoke ${round} from ${sender.userId}`;
          const senderSocket = socketOf(sender);
          senderSocket.send({ type: "send", conversationId, clientMessageId, body });
          await senderSocket.waitFor(
            `accepted ${clientMessageId}`,
            (f): f is Extract<ServerFrame, { type: "accepted" }> =>
              f.type === "accepted" && f.conversationId === conversationId && f.clientMessageId === clientMessageId,
            timeoutMs,
          );
          // Waiting for delivery before the next send keeps arrival order meaningful even though the
          // notify queue is unordered: a later message cannot exist before this one arrives.
          const isThis = (f: ServerFrame): f is MessageFrame =>
            f.type === "message" && f.conversationId === conversationId && f.clientMessageId === clientMessageId;
          const delivered = await socketOf(recipient)
            .waitFor(`message ${clientMessageId}`, isThis, timeoutMs)
            .catch(async (err: unknown) => {
              if (!(err instanceof SmokeTimeoutError)) throw err;
              // Tell "never stored" (queue or persister) apart from "stored, not pushed" (fan-out).
              const stored = await api("GET", historyPath(conversationId), historySchema, {
                token: recipient.token,
                via: recipient.origin,
              }).then(
                (h) => h.messages.find((m) => m.clientMessageId === clientMessageId),
                () => undefined,
              );
              const echoed = senderSocket.frames.some(isThis);
              throw new Error(
                `${err.message} (${stored ? `stored as seq ${stored.seq}` : "not in history"}; ` +
                  `the sender's socket ${echoed ? "got" : "did not get"} it)`,
              );
            });
          const expectedSeq = sent.length + 1;
          if (delivered.seq !== expectedSeq) {
            throw new Error(`message ${clientMessageId} arrived with seq ${delivered.seq}, expected ${expectedSeq}`);
          }
          if (delivered.senderId !== sender.userId || delivered.body !== body) {
            throw new Error(`message ${clientMessageId} arrived with a different sender or body`);
          }
          sent.push({ seq: expectedSeq, senderId: sender.userId, clientMessageId, body });
        }
      }
      for (const p of people) checkLiveOrder(socketOf(p), conversationId, p.userId, sent);
      return sent;
    });

    await step("history", async () => {
      for (const p of people) {
        const history = await waitForHistory(
          () =>
            api("GET", historyPath(conversationId), historySchema, {
              token: p.token,
              via: p.origin,
            }),
          sent.length,
          timeoutMs,
        );
        const got = history.messages.map((m) => `${m.seq}:${m.clientMessageId}`).join(", ");
        const want = sent.map((m) => `${m.seq}:${m.clientMessageId}`).join(", ");
        if (got !== want) throw new Error(`history for ${p.userId} is [${got}], expected [${want}]`);
        for (const [i, m] of history.messages.entries()) {
          const expected = sent[i];
          if (m.senderId !== expected?.senderId || m.body !== expected.body || m.conversationId !== conversationId) {
            throw new Error(`stored message seq ${m.seq} differs from what was sent`);
          }
        }
        if (history.hasMore) throw new Error(`history for ${p.userId} claims more than ${sent.length} messages`);
      }
      const { conversations } = await api("GET", "/api/conversations", conversationsSchema, {
        token: bob.token,
        via: bob.origin,
      });
      const summary = conversations.find((c) => c.conversationId === conversationId);
      if (!summary) throw new Error(`GET /api/conversations for ${bob.userId} lacks ${conversationId}`);
      if (summary.lastSeq !== sent.length) {
        throw new Error(`conversation lastSeq is ${summary.lastSeq}, expected ${sent.length}`);
      }
    });

    await step("close", async () => {
      await Promise.all(
        people.map(async (p) => {
          const { code } = await socketOf(p).close(timeoutMs);
          p.socket = undefined;
          if (code !== 1000) throw new Error(`${p.userId}'s socket closed with code ${code}, expected 1000`);
        }),
      );
    });

    const durationMs = Date.now() - started;
    log(`smoke test passed in ${durationMs} ms (${sent.length} messages in ${conversationId})`);
    return {
      origin,
      gatewayIds,
      conversationId,
      userIds: [alice.userId, bob.userId],
      messageCount: sent.length,
      steps,
      durationMs,
    };
  } finally {
    for (const p of people) p.socket?.terminate();
  }
}

/** The API and WebSocket live at the origin; a trailing path on the base URL is ignored. */
export function originOf(baseUrl: string): string {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new SmokeStepError("health", `"${baseUrl}" is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new SmokeStepError("health", `"${baseUrl}" must be an http or https URL`);
  }
  return url.origin;
}

/**
 * Live pushes are at-least-once: duplicates (same seq) are fine, but a seq must always carry the
 * same message, and the other user's messages must arrive in seq order.
 */
function checkLiveOrder(socket: SmokeSocket, conversationId: string, userId: string, sent: SentMessage[]): void {
  const bySeq = new Map(sent.map((m) => [m.seq, m]));
  let lastFromOther = 0;
  for (const frame of socket.frames) {
    if (frame.type !== "message" || frame.conversationId !== conversationId) continue;
    const expected = bySeq.get(frame.seq);
    if (!expected || expected.clientMessageId !== frame.clientMessageId) {
      throw new Error(`${socket.label} received seq ${frame.seq} as ${frame.clientMessageId}, which was not sent so`);
    }
    if (frame.senderId === userId) continue;
    if (frame.seq < lastFromOther) {
      throw new Error(`${socket.label} received seq ${frame.seq} after seq ${lastFromOther}`);
    }
    lastFromOther = frame.seq;
  }
}

/** The persister writes before it notifies, so history should already be complete; allow for lag anyway. */
async function waitForHistory<T extends { messages: unknown[] }>(
  fetchPage: () => Promise<T>,
  count: number,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const page = await fetchPage();
    if (page.messages.length >= count) return page;
    if (Date.now() + 250 > deadline) {
      throw new SmokeTimeoutError(`${count} stored messages (history has ${page.messages.length})`, timeoutMs);
    }
    await delay(250);
  }
}

function historyPath(conversationId: string): string {
  return `/api/conversations/${encodeURIComponent(conversationId)}/messages?limit=100`;
}

function socketOf(p: Participant): SmokeSocket {
  if (!p.socket) throw new Error(`${p.userId} has no open socket`);
  return p.socket;
}

function isFrame<K extends ServerFrame["type"]>(type: K) {
  return (f: ServerFrame): f is Extract<ServerFrame, { type: K }> => f.type === type;
}

function randomSuffix(): string {
  // Lowercase base-36 keeps usernames inside ^[a-z0-9_]{3,32}$.
  return BigInt("0x" + randomBytes(8).toString("hex"))
    .toString(36)
    .slice(0, 10);
}

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

function withoutUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
