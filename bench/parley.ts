/**
 * Parley under test: the local stack with limits raised for load, the benchmark's users and conversations
 * written through the store, and tokens minted by the gateway's own TokenService with the stack's secret.
 *
 * Why not POST /api/signup for 1,000 users: each costs one scrypt hash (~50–100 ms of a core, by design), and
 * /api/login costs the same again. Users are therefore written through `createUser` with one shared hash, and
 * tokens are issued exactly as /api/login issues them (same class, secret, issuer, audience, TTL). A sample of
 * real signups and logins is timed to show the difference.
 */
import { env as envNames, loadAwsConfig, loadGatewayConfig, loadTableNames } from "../runtime/contracts";
import { createDynamoClient } from "../runtime/aws/clients";
import { hashPassword, TokenService } from "../runtime/gateway/auth";
import { startLocalStack, type LocalStack } from "../runtime/local/stack";
import { BatchWriteCommand } from "@aws-sdk/lib-dynamodb";
import type { StoredMessage } from "../runtime/contracts";
import { createConversation, recordSummary } from "../runtime/store/conversations";
import { createUser } from "../runtime/store/users";
import { mapLimit, nowMs } from "./load";
import type { MeteredProcess } from "./metrics";
import type { Population } from "./workload";

export const BENCH_PASSWORD = "bench-password-not-secret";

export interface ParleySetup {
  readonly stack: LocalStack;
  readonly tokens: string[];
  readonly processes: () => MeteredProcess[];
  readonly gatewayProcesses: () => MeteredProcess[];
  readonly timings: Record<string, number>;
}

export interface ParleyOptions {
  readonly gateways: number;
  readonly runnerConcurrency: number;
  readonly runnerBatchSize: number;
  /** Extra env for the gateways and the persister runner (the GC and profiler preload). */
  readonly preloadEnv?: Record<string, string>;
  readonly mirror?: NodeJS.WritableStream;
}

export async function startParley(opts: ParleyOptions): Promise<LocalStack> {
  return startLocalStack({
    gateways: opts.gateways,
    inMemory: true,
    mirror: opts.mirror,
    gatewayEnv: {
      // The defaults protect a real service from one abusive client; the benchmark's clients send far
      // faster than a person, so the limits are lifted (never switched off).
      [envNames.rateLimitPerSecond]: "10000",
      [envNames.rateLimitBurst]: "100000",
      [envNames.maxConnectionsPerUser]: "1000",
      [envNames.logLevel]: "warn",
      ...opts.preloadEnv,
    },
    runnerEnv: {
      [envNames.runnerConcurrency]: String(opts.runnerConcurrency),
      [envNames.runnerBatchSize]: String(opts.runnerBatchSize),
      ...opts.preloadEnv,
    },
  });
}

/** The gateway's own token issuer, configured from the very env the gateways run with. */
export function tokenServiceFor(stack: LocalStack): TokenService {
  const config = loadGatewayConfig(stack.gatewayBaseEnv);
  return new TokenService({
    secret: config.jwtSecret,
    issuer: config.jwtIssuer,
    audience: config.jwtAudience,
    ttlSeconds: config.tokenTtlSeconds,
  });
}

export function meteredProcesses(stack: LocalStack): MeteredProcess[] {
  const out: MeteredProcess[] = stack.gateways.map((g) => ({
    name: g.id,
    pid: g.process.child.pid!,
    output: () => g.process.output(),
  }));
  const runner = stack.runner;
  if (runner) out.push({ name: "persister", pid: runner.child.pid!, output: () => runner.output() });
  out.push({ name: "fauxqs", pid: stack.emulators.sqs.process.pid! });
  out.push({ name: "dynalite", pid: stack.emulators.dynamodb.process.pid! });
  return out;
}

/** Writes users and conversations, mints tokens; returns per-step timings in ms. */
export async function seedParley(
  stack: LocalStack,
  pop: Population,
  opts: { sampleSignups: number },
): Promise<{ tokens: string[]; timings: Record<string, number> }> {
  const e = stack.gatewayBaseEnv;
  const db = { ddb: createDynamoClient(loadAwsConfig(e)), tables: loadTableNames(e) };
  const timings: Record<string, number> = {};
  try {
    let t = nowMs();
    const passwordHash = await hashPassword(BENCH_PASSWORD);
    const createdAt = Date.now();
    await mapLimit(pop.userIds, 16, (userId) =>
      createUser(db, { userId, displayName: userId, passwordHash, createdAt }),
    );
    timings.usersWrittenMs = nowMs() - t;

    t = nowMs();
    await mapLimit(pop.conversations, 8, (c) =>
      createConversation(db, {
        conversationId: c.id,
        kind: "group",
        title: `bench ${c.size}`,
        memberIds: c.members.map((m) => pop.userIds[m]!),
        createdBy: pop.userIds[c.members[0]!]!,
        createdAt,
      }),
    );
    timings.conversationsWrittenMs = nowMs() - t;

    t = nowMs();
    const tokenService = tokenServiceFor(stack);
    const tokens = await Promise.all(pop.userIds.map((u) => tokenService.issue(u)));
    timings.tokensMintedMs = nowMs() - t;

    // Evidence for the choice above, and proof that minted tokens are what the gateway accepts.
    const me = await fetch(`${stack.url}/api/me`, { headers: { authorization: `Bearer ${tokens[0]}` } });
    if (!me.ok) throw new Error(`minted token refused by GET /api/me: HTTP ${me.status}`);
    if (opts.sampleSignups > 0) {
      t = nowMs();
      await mapLimit(
        Array.from({ length: opts.sampleSignups }, (_, i) => `bsignup_${Date.now().toString(36)}_${i}`),
        4,
        async (username) => {
          const res = await fetch(`${stack.url}/api/signup`, {
            method: "POST",
            headers: { "content-type": "application/json", origin: stack.url },
            body: JSON.stringify({ username, password: BENCH_PASSWORD }),
          });
          if (res.status !== 201) throw new Error(`signup sample: HTTP ${res.status} ${await res.text()}`);
        },
      );
      timings.signupPerUserMs = (nowMs() - t) / opts.sampleSignups;
      t = nowMs();
      await mapLimit(pop.userIds.slice(0, opts.sampleSignups), 4, async (username) => {
        const res = await fetch(`${stack.url}/api/login`, {
          method: "POST",
          headers: { "content-type": "application/json", origin: stack.url },
          body: JSON.stringify({ username, password: BENCH_PASSWORD }),
        });
        if (res.status !== 200) throw new Error(`login sample: HTTP ${res.status} ${await res.text()}`);
      });
      timings.loginPerUserMs = (nowMs() - t) / opts.sampleSignups;
    }
    return { tokens, timings };
  } finally {
    db.ddb.destroy();
  }
}

/** Two extra users in their own conversation, for the reconnect-and-sync measurement. */
export async function seedSyncPair(
  stack: LocalStack,
  runTag: string,
): Promise<{ conversationId: string; users: [string, string]; tokens: [string, string] }> {
  const e = stack.gatewayBaseEnv;
  const db = { ddb: createDynamoClient(loadAwsConfig(e)), tables: loadTableNames(e) };
  try {
    const users: [string, string] = [`bsync${runTag}_a`, `bsync${runTag}_b`];
    const passwordHash = await hashPassword(BENCH_PASSWORD);
    for (const userId of users)
      await createUser(db, { userId, displayName: userId, passwordHash, createdAt: Date.now() });
    const conversationId = `g:benchsync${runTag}`;
    await createConversation(db, {
      conversationId,
      kind: "group",
      title: "bench sync",
      memberIds: users,
      createdBy: users[0],
      createdAt: Date.now(),
    });
    const tokenService = tokenServiceFor(stack);
    return { conversationId, users, tokens: [await tokenService.issue(users[0]), await tokenService.issue(users[1])] };
  } finally {
    db.ddb.destroy();
  }
}

/**
 * Stores `count` messages straight into the messages table (seq 1..count) and moves the conversation summary to
 * the last one — what the persister would have left behind while the reader was away. Pushing 1,000 messages
 * through one FIFO group would take minutes locally (one message per group per receive), and the target is
 * about the sync path (table → socket), not the write path.
 */
export async function seedMissedMessages(
  stack: LocalStack,
  conversationId: string,
  senderId: string,
  count: number,
): Promise<void> {
  const e = stack.gatewayBaseEnv;
  const db = { ddb: createDynamoClient(loadAwsConfig(e)), tables: loadTableNames(e) };
  try {
    const now = Date.now();
    const messages: StoredMessage[] = Array.from({ length: count }, (_, k) => ({
      conversationId,
      seq: k + 1,
      senderId,
      clientMessageId: `missed-${k + 1}`,
      body: `missed message ${k + 1} ` + "x".repeat(60),
      sentAt: now,
      storedAt: now,
    }));
    const chunks: StoredMessage[][] = [];
    for (let i = 0; i < messages.length; i += 25) chunks.push(messages.slice(i, i + 25));
    await mapLimit(chunks, 4, async (chunk) => {
      let items: Record<string, unknown>[] | undefined = chunk.map((m) => ({ PutRequest: { Item: m } }));
      for (let attempt = 0; items?.length && attempt < 10; attempt++) {
        const out = await db.ddb.send(new BatchWriteCommand({ RequestItems: { [db.tables.messages]: items } }));
        items = out.UnprocessedItems?.[db.tables.messages] as Record<string, unknown>[] | undefined;
      }
      if (items?.length) throw new Error(`${items.length} missed messages left unprocessed`);
    });
    const last = messages[messages.length - 1]!;
    await recordSummary(db, { conversationId: last.conversationId, lastSeq: last.seq, message: last });
  } finally {
    db.ddb.destroy();
  }
}
