/**
 * The smoke test's steps, in the order `runSmoke` takes them: each gets the run (users, API, deadline) and throws
 * an error whose message says what broke; `runSmoke` names the step.
 */
import { setTimeout as delay } from "node:timers/promises";
import { directConversationId, type ServerFrame } from "../contracts";
import { historyPath, schemas, type SmokeApi } from "./api";
import { describeError, SmokeTimeoutError } from "./errors";
import { SmokeSocket } from "./socket";

export interface Participant {
  readonly userId: string;
  readonly origin: string;
  readonly password: string;
  token: string;
  socket?: SmokeSocket;
}

export interface SmokeRun {
  readonly api: SmokeApi;
  /** Deadline for each request or awaited frame. */
  readonly timeoutMs: number;
  readonly log: (line: string) => void;
  readonly signal?: AbortSignal;
  /** Random, shared by the users' names and the messages' ids of this run. */
  readonly suffix: string;
  readonly people: readonly [Participant, Participant];
}

export interface SentMessage {
  readonly seq: number;
  readonly senderId: string;
  readonly clientMessageId: string;
  readonly body: string;
}

type MessageFrame = Extract<ServerFrame, { type: "message" }>;

const READY_RETRY_MS = 2_000;

/** The gateway id /healthz reports at each origin, retried for `readyTimeoutMs` (0: fail on the first error). */
export async function checkHealth(
  run: SmokeRun,
  origins: readonly string[],
  readyTimeoutMs: number,
): Promise<string[]> {
  const deadline = Date.now() + readyTimeoutMs;
  const ids: string[] = [];
  for (const via of new Set(origins)) {
    for (let attempt = 1; ; attempt++) {
      try {
        ids.push((await run.api("GET", "/healthz", schemas.health, { via })).gatewayId);
        break;
      } catch (err) {
        if (Date.now() + READY_RETRY_MS > deadline) {
          throw attempt === 1 ? err : new Error(`not ready after ${attempt} attempts: ${describeError(err)}`);
        }
        run.log(`step health: ${via} not ready yet (${describeError(err)}), retrying`);
        // Rejects with the caller's reason (not a bare AbortError) when the run is aborted meanwhile.
        await delay(READY_RETRY_MS, undefined, { signal: run.signal }).catch((err: unknown) => {
          throw run.signal?.aborted ? run.signal.reason : err;
        });
      }
    }
  }
  return ids;
}

export async function signUpBoth(run: SmokeRun): Promise<void> {
  for (const [i, p] of run.people.entries()) {
    const res = await run.api("POST", "/api/signup", schemas.auth, {
      body: { username: p.userId, password: p.password, displayName: `Smoke ${i === 0 ? "A" : "B"} ${run.suffix}` },
      expectStatus: [201],
      via: p.origin,
    });
    if (res.user.userId !== p.userId) {
      throw new Error(`signed up as "${res.user.userId}", expected "${p.userId}"`);
    }
    p.token = res.token;
  }
}

export async function logIn(run: SmokeRun): Promise<void> {
  const [alice] = run.people;
  const res = await run.api("POST", "/api/login", schemas.auth, {
    body: { username: alice.userId, password: alice.password },
  });
  const me = await run.api("GET", "/api/me", schemas.me, { token: res.token });
  if (me.user.userId !== alice.userId) {
    throw new Error(`GET /api/me answered "${me.user.userId}", expected "${alice.userId}"`);
  }
  alice.token = res.token;
}

/** The direct conversation of the two users; returns its id. */
export async function openConversation(run: SmokeRun): Promise<string> {
  const [alice, bob] = run.people;
  const { conversation } = await run.api("POST", "/api/conversations", schemas.createConversation, {
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
}

export async function connectBoth(run: SmokeRun, conversationId: string): Promise<void> {
  // One after the other, so the second user's connect finds the first one registered.
  for (const p of run.people) {
    const label = `${p.userId}'s socket`;
    p.socket = await SmokeSocket.open({ origin: p.origin, token: p.token, label, timeoutMs: run.timeoutMs });
    const ready = await p.socket.waitFor("ready", isFrame("ready"), run.timeoutMs);
    // The protocol puts `ready` first. A presence announcement racing the handshake may beat it
    // (seen against the local gateways); it is ephemeral and harmless, so only that is let through.
    const early = p.socket.frames.slice(0, p.socket.frames.indexOf(ready)).find((f) => f.type !== "presence");
    if (early) throw new Error(`${label}: received "${early.type}" before "ready"`);
    if (ready.userId !== p.userId) throw new Error(`${label}: ready for "${ready.userId}"`);
    // What every client does after connecting; it also proves the connection is registered.
    p.socket.send({ type: "sync", cursors: [{ conversationId, afterSeq: 0 }] });
    const synced = await p.socket.waitFor("synced", isFrame("synced"), run.timeoutMs);
    const cursor = synced.cursors.find((c) => c.conversationId === conversationId);
    if (cursor && cursor.lastSeq !== 0) {
      throw new Error(`${label}: synced a new conversation at lastSeq ${cursor.lastSeq}, expected 0`);
    }
  }
}

/** `messagesPerUser` rounds of alternating sends, each delivered before the next; returns what was sent. */
export async function exchangeMessages(
  run: SmokeRun,
  conversationId: string,
  messagesPerUser: number,
): Promise<SentMessage[]> {
  const [alice, bob] = run.people;
  const sent: SentMessage[] = [];
  for (let round = 1; round <= messagesPerUser; round++) {
    for (const [sender, recipient] of [
      [alice, bob],
      [bob, alice],
    ] as const) {
      const clientMessageId = `smoke-${run.suffix}-${sender === alice ? "a" : "b"}${round}`;
      const body = `smoke ${round} from ${sender.userId}`;
      const senderSocket = socketOf(sender);
      senderSocket.send({ type: "send", conversationId, clientMessageId, body });
      await senderSocket.waitFor(
        `accepted ${clientMessageId}`,
        (f): f is Extract<ServerFrame, { type: "accepted" }> =>
          f.type === "accepted" && f.conversationId === conversationId && f.clientMessageId === clientMessageId,
        run.timeoutMs,
      );
      // Waiting for delivery before the next send keeps arrival order meaningful even though the
      // notify queue is unordered: a later message cannot exist before this one arrives.
      const isThis = (f: ServerFrame): f is MessageFrame =>
        f.type === "message" && f.conversationId === conversationId && f.clientMessageId === clientMessageId;
      const delivered = await socketOf(recipient)
        .waitFor(`message ${clientMessageId}`, isThis, run.timeoutMs)
        .catch(async (err: unknown) => {
          if (!(err instanceof SmokeTimeoutError)) throw err;
          // Tell "never stored" (queue or persister) apart from "stored, not pushed" (fan-out).
          const stored = await run
            .api("GET", historyPath(conversationId), schemas.history, { token: recipient.token, via: recipient.origin })
            .then(
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
  for (const p of run.people) checkLiveOrder(socketOf(p), conversationId, p.userId, sent);
  return sent;
}

/** Both users' history holds exactly what was sent, in order, and the conversation list agrees. */
export async function checkHistory(run: SmokeRun, conversationId: string, sent: readonly SentMessage[]): Promise<void> {
  for (const p of run.people) {
    const history = await waitForHistory(
      () => run.api("GET", historyPath(conversationId), schemas.history, { token: p.token, via: p.origin }),
      sent.length,
      run.timeoutMs,
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
  const bob = run.people[1];
  const { conversations } = await run.api("GET", "/api/conversations", schemas.conversations, {
    token: bob.token,
    via: bob.origin,
  });
  const summary = conversations.find((c) => c.conversationId === conversationId);
  if (!summary) throw new Error(`GET /api/conversations for ${bob.userId} lacks ${conversationId}`);
  if (summary.lastSeq !== sent.length) {
    throw new Error(`conversation lastSeq is ${summary.lastSeq}, expected ${sent.length}`);
  }
}

export async function closeSockets(run: SmokeRun): Promise<void> {
  await Promise.all(
    run.people.map(async (p) => {
      const { code } = await socketOf(p).close(run.timeoutMs);
      p.socket = undefined;
      if (code !== 1000) throw new Error(`${p.userId}'s socket closed with code ${code}, expected 1000`);
    }),
  );
}

/**
 * Live pushes are at-least-once: duplicates (same seq) are fine, but a seq must always carry the
 * same message, and the other user's messages must arrive in seq order.
 */
function checkLiveOrder(
  socket: SmokeSocket,
  conversationId: string,
  userId: string,
  sent: readonly SentMessage[],
): void {
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

function socketOf(p: Participant): SmokeSocket {
  if (!p.socket) throw new Error(`${p.userId} has no open socket`);
  return p.socket;
}

function isFrame<K extends ServerFrame["type"]>(type: K) {
  return (f: ServerFrame): f is Extract<ServerFrame, { type: K }> => f.type === type;
}
