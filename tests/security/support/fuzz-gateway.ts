/**
 * Fuzzes a gateway running in this very process (so Object.prototype can be inspected where the parsing
 * happened) over its real HTTP and WebSocket interfaces, against the emulators named in the env. Run by
 * tests/security/fuzz-gateway.test.ts with tsx (the gateway imports jose, which jest cannot load); prints one
 * JSON summary line. Env: the stack's gateway env plus FUZZ_WS_FRAMES, FUZZ_API_REQUESTS, FUZZ_SEED.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { Writable } from "node:stream";
import fc from "fast-check";
import pino from "pino";
import WebSocket from "ws";
import {
  clientFrameSchema,
  env,
  loadGatewayConfig,
  WS_AUTH_PROTOCOL_PREFIX,
  WS_PROTOCOL,
} from "../../../runtime/contracts";
import { redactPaths } from "../../../runtime/gateway/logger";
import { startGateway } from "../../../runtime/gateway/server";
import { freePort } from "../../../runtime/local/emulators";
import { apiCase, frameText, type ApiCase } from "./arbitraries";

/* eslint-disable @typescript-eslint/no-explicit-any -- frames and bodies are untyped JSON here */

const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort().join();
const polluted = () =>
  (({}) as any).polluted !== undefined || Object.getOwnPropertyNames(Object.prototype).sort().join() !== prototypeKeys;

async function main(): Promise<void> {
  const wsFrames = Number(process.env.FUZZ_WS_FRAMES ?? 5000);
  const apiRequests = Number(process.env.FUZZ_API_REQUESTS ?? 2000);
  const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const config = loadGatewayConfig({
    ...process.env,
    [env.port]: String(port),
    [env.internalPort]: "0",
    [env.allowedOrigins]: base,
    [env.gatewayId]: "fuzz-gw",
    [env.rateLimitPerSecond]: "10000",
    [env.rateLimitBurst]: "100000",
  });
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      logLines.push(chunk.toString());
      done();
    },
  });
  const log = pino({ level: "debug", redact: { paths: redactPaths, censor: "[redacted]" } }, sink);
  const loop = monitorEventLoopDelay({ resolution: 10 });
  const gateway = await startGateway(config, { log, bindHost: "127.0.0.1", advertiseHost: "127.0.0.1" });

  const secrets: string[] = [];
  const json = async (method: string, path: string, body?: unknown, token?: string) => {
    const res = await fetch(base + path, {
      method,
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  const users = [];
  for (const stem of ["fz_alice", "fz_bob"]) {
    const password = `fuzz-pass-${seed}-${stem}`;
    const r = await json("POST", "/api/signup", { username: `${stem}_${seed}`, password });
    if (r.status !== 201) throw new Error(`signup ${r.status} ${JSON.stringify(r.body)}`);
    secrets.push(password, r.body.token);
    users.push({ userId: r.body.user.userId as string, token: r.body.token as string, password });
  }
  const [alice, bob] = users as [(typeof users)[0], (typeof users)[0]];
  const conv = await json("POST", "/api/conversations", { kind: "direct", userId: bob.userId }, alice.token);
  const conversationId: string = conv.body.conversation.conversationId;

  // Measured over the fuzzing only, not module loading and startup.
  loop.enable();

  // --- WebSocket frames ---
  const validSends = new Set<string>();
  const errorCodes: Record<string, number> = {};
  let acceptedBadInput = 0;
  let unexpectedCloses: number[] = [];
  let ws!: WebSocket;
  let barrier: { marker: number; resolve: () => void } | undefined;
  // A conversation that does not exist: a sync for it is answered NOT_MEMBER with its id, in its turn.
  const barrierConversation = (marker: number) => `g:fuzzbarrier${marker}`;
  const open = async () => {
    ws = new WebSocket(base.replace("http", "ws") + "/ws", [WS_PROTOCOL, WS_AUTH_PROTOCOL_PREFIX + alice.token], {
      origin: base,
    });
    ws.on("message", (d) => {
      const f = JSON.parse(d.toString());
      if (f.type === "error" && barrier && f.ref?.conversationId === barrierConversation(barrier.marker)) {
        barrier.resolve();
        return;
      }
      if (f.type === "error") errorCodes[f.code] = (errorCodes[f.code] ?? 0) + 1;
      if (f.type === "accepted" && !validSends.has(f.clientMessageId)) acceptedBadInput++;
    });
    ws.on("close", (code) => {
      if (code !== 1000 && code !== 1005) unexpectedCloses.push(code);
    });
    await new Promise<void>((resolve, reject) => {
      ws.on("message", function ready(d) {
        if (JSON.parse(d.toString()).type === "ready") {
          ws.off("message", ready);
          resolve();
        }
      });
      ws.on("error", reject);
    });
  };
  await open();
  const frames = fc.sample(frameText(conversationId), { numRuns: wsFrames, seed });
  let marker = 900_000_000;
  for (let i = 0; i < frames.length; i++) {
    const text = frames[i]!;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const frame = clientFrameSchema.safeParse(parsed);
    if (frame.success && frame.data.type === "send") validSends.add(frame.data.clientMessageId);
    if (ws.readyState !== WebSocket.OPEN) await open();
    ws.send(text);
    if (i % 250 === 249 || i === frames.length - 1) {
      // Frames are answered in the order received (docs/protocol.md): the answer to this sync means everything
      // before it was handled.
      const m = ++marker;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no barrier answer after frame ${i}`)), 30_000);
        barrier = {
          marker: m,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        };
        ws.send(JSON.stringify({ type: "sync", cursors: [{ conversationId: barrierConversation(m), afterSeq: 0 }] }));
      });
    }
  }
  ws.close(1000);
  const closesDuringFuzz = unexpectedCloses;
  unexpectedCloses = [];

  // --- HTTP API ---
  const cases = fc.sample(apiCase(conversationId), { numRuns: apiRequests, seed: seed + 1 });
  const statuses: Record<string, number> = {};
  const fiveXx: string[] = [];
  const send = async (c: ApiCase) => {
    try {
      const res = await fetch(base + c.path, {
        method: c.method,
        headers: {
          ...(c.body !== undefined ? { "content-type": "application/json" } : {}),
          ...(c.authenticated ? { authorization: `Bearer ${alice.token}` } : {}),
        },
        body: c.body,
      });
      await res.arrayBuffer();
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      if (res.status >= 500) fiveXx.push(`${res.status} ${c.method} ${c.path} ${c.body ?? ""}`.slice(0, 300));
    } catch (err) {
      fiveXx.push(`network error ${(err as Error).message} ${c.method} ${c.path}`.slice(0, 300));
    }
  };
  for (let i = 0; i < cases.length; i += 8) await Promise.all(cases.slice(i, i + 8).map(send));

  const health = await fetch(`${base}/healthz`);
  loop.disable();
  const rssMb = Math.round(process.memoryUsage().rss / 1024 / 1024);
  await gateway.stop();
  const logs = logLines.join("");
  const logLeaks = secrets.filter((s) => logs.includes(s)).map((s) => s.slice(0, 6));
  process.stdout.write(
    `\nFUZZ-SUMMARY ${JSON.stringify({
      seed,
      wsFrames: frames.length,
      apiRequests: cases.length,
      errorCodes,
      statuses,
      fiveXx,
      closesDuringFuzz,
      acceptedBadInput,
      validSends: validSends.size,
      polluted: polluted(),
      healthy: health.status === 200,
      eventLoopP99Ms: Math.round(loop.percentile(99) / 1e6),
      eventLoopMaxMs: Math.round(loop.max / 1e6),
      rssMb,
      logLines: logLines.length,
      logLeaks,
    })}\n`,
  );
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
