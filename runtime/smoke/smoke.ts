/**
 * The end-to-end smoke test, the same code for the local stack and an ephemeral AWS stack: two fresh
 * users, one direct conversation, messages both ways over WebSocket, then order and persistence
 * through the history API. Every network wait has a deadline, and every failure names its step
 * (the steps are in steps.ts, the API shapes in api.ts).
 */
import { randomBytes } from "node:crypto";
import { smokeApi } from "./api";
import { describeError, SmokeStepError, type SmokeStepName } from "./errors";
import {
  checkHealth,
  checkHistory,
  closeSockets,
  connectBoth,
  exchangeMessages,
  logIn,
  openConversation,
  signUpBoth,
  type Participant,
  type SmokeRun,
} from "./steps";

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

  const suffix = randomSuffix();
  const people: [Participant, Participant] = [
    { userId: `smoke_${suffix}_a`, origin, password: randomBytes(18).toString("base64url"), token: "" },
    { userId: `smoke_${suffix}_b`, origin: peerOrigin, password: randomBytes(18).toString("base64url"), token: "" },
  ];
  const run: SmokeRun = {
    api: smokeApi(origin, timeoutMs, options.signal),
    timeoutMs,
    log,
    signal: options.signal,
    suffix,
    people,
  };

  log(`smoke test against ${origin}${peerOrigin === origin ? "" : ` and ${peerOrigin}`}`);
  const gatewayIds = await step("health", () => checkHealth(run, [origin, peerOrigin], readyTimeoutMs));
  try {
    await step("signup", () => signUpBoth(run));
    await step("login", () => logIn(run));
    const conversationId = await step("conversation", () => openConversation(run));
    await step("connect", () => connectBoth(run, conversationId));
    const sent = await step("exchange", () => exchangeMessages(run, conversationId, messagesPerUser));
    await step("history", () => checkHistory(run, conversationId, sent));
    await step("close", () => closeSockets(run));

    const durationMs = Date.now() - started;
    log(`smoke test passed in ${durationMs} ms (${sent.length} messages in ${conversationId})`);
    return {
      origin,
      gatewayIds,
      conversationId,
      userIds: [people[0].userId, people[1].userId],
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

function randomSuffix(): string {
  // Lowercase base-36 keeps usernames inside ^[a-z0-9_]{3,32}$.
  return BigInt("0x" + randomBytes(8).toString("hex"))
    .toString(36)
    .slice(0, 10);
}

function withoutUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
