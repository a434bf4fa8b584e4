/**
 * fast-check generators for hostile input: random JSON, JSON objects with prototype-polluting keys, valid
 * frames and API bodies with one field mutated, and text that is not JSON at all. Each yields the text sent
 * on the wire, so the same samples drive the in-process parsers and the live gateway.
 */
import fc from "fast-check";

const dangerousKey = fc.constantFrom("__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "valueOf");

/** JSON values whose objects often carry `__proto__` / `constructor` keys, nested. */
const hostileJson: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.jsonValue({ maxDepth: 2 }),
    tie("object"),
    fc.array(tie("value"), { maxLength: 4 }),
  ),
  object: fc
    .array(fc.tuple(fc.oneof(dangerousKey, fc.string({ maxLength: 12 })), tie("value")), { maxLength: 5 })
    .map((entries) => {
      // Object.fromEntries would route "__proto__" through the setter; JSON text keeps it a plain key.
      const o: Record<string, unknown> = {};
      for (const [k, v] of entries) Object.defineProperty(o, k, { value: v, enumerable: true, writable: true });
      return o;
    }),
})).value;

const pollutionPayload = fc.constantFrom(
  '{"__proto__":{"polluted":"yes"}}',
  '{"type":"send","__proto__":{"polluted":"yes"},"conversationId":"g:abcdefgh","clientMessageId":"x","body":"hi"}',
  '{"constructor":{"prototype":{"polluted":"yes"}}}',
  '{"type":"sync","cursors":[{"__proto__":{"polluted":"yes"},"conversationId":"g:abcdefgh","afterSeq":0}]}',
  '{"type":"ping","__proto__":{"type":"send"}}',
  '{"kind":"group","title":"t","memberIds":["alice"],"__proto__":{"polluted":"yes"}}',
  '{"username":"alice","password":"x","constructor":{"prototype":{"polluted":"yes"}}}',
);

function mutate(base: Record<string, unknown>): fc.Arbitrary<string> {
  const keys = Object.keys(base);
  return fc.oneof(
    // One field replaced by anything.
    fc.tuple(fc.constantFrom(...keys), hostileJson).map(([k, v]) => JSON.stringify({ ...base, [k]: v })),
    // One field dropped.
    fc
      .constantFrom(...keys)
      .map((k) => JSON.stringify(Object.fromEntries(Object.entries(base).filter(([x]) => x !== k)))),
    // An extra, possibly dangerous, key.
    fc
      .tuple(fc.oneof(dangerousKey, fc.string({ maxLength: 8 })), hostileJson)
      .map(([k, v]) => JSON.stringify(base).replace(/}$/, `,${JSON.stringify(k)}:${JSON.stringify(v) ?? "null"}}`)),
    // Truncated or byte-flipped text.
    fc.nat().map((n) => JSON.stringify(base).slice(0, n % (JSON.stringify(base).length + 1))),
    fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })).map(([i, b]) => {
      const t = JSON.stringify(base);
      const at = i % t.length;
      return t.slice(0, at) + String.fromCharCode(b) + t.slice(at + 1);
    }),
  );
}

/** Text frames for the WebSocket: mutations of every valid frame kind, random JSON, pollution attempts, junk. */
export function frameText(conversationId: string): fc.Arbitrary<string> {
  const valid: Record<string, unknown>[] = [
    { type: "send", conversationId, clientMessageId: "fuzz-1", body: "hello" },
    { type: "sync", cursors: [{ conversationId, afterSeq: 0 }] },
    { type: "typing", conversationId },
    { type: "read", conversationId, seq: 1 },
    { type: "ping" },
  ];
  return fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(...valid).chain(mutate) },
    { weight: 2, arbitrary: hostileJson.map((v) => JSON.stringify(v) ?? "null") },
    { weight: 1, arbitrary: pollutionPayload },
    { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
    { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 100 }) },
  );
}

export interface ApiCase {
  readonly method: "GET" | "POST";
  readonly path: string;
  readonly body?: string;
  readonly authenticated: boolean;
}

/** API requests: mutated bodies for every POST route, hostile query strings and path ids for the GETs. */
export function apiCase(conversationId: string): fc.Arbitrary<ApiCase> {
  const post = (path: string, base: Record<string, unknown>, authenticated: boolean) =>
    fc
      .oneof(
        { weight: 4, arbitrary: mutate(base) },
        pollutionPayload,
        hostileJson.map((v) => JSON.stringify(v) ?? ""),
      )
      .map((body): ApiCase => ({ method: "POST", path, body, authenticated }));
  const query = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.constantFrom("__proto__[polluted]=yes", "constructor[prototype][polluted]=yes", "limit=1e309", "limit=-1"),
    fc
      .dictionary(
        fc.oneof(dangerousKey, fc.constantFrom("prefix", "limit", "before", "after", "userIds")),
        fc.string({ maxLength: 20 }),
        {
          maxKeys: 4,
        },
      )
      .map((d) => new URLSearchParams(d).toString()),
  );
  const get = (path: fc.Arbitrary<string>) =>
    fc.tuple(path, query).map(([p, q]): ApiCase => ({ method: "GET", path: `${p}?${q}`, authenticated: true }));
  return fc.oneof(
    // Signups are few: a valid one costs a scrypt hash.
    { weight: 1, arbitrary: post("/api/signup", { username: "fuzzer", password: "", displayName: "F" }, false) },
    { weight: 3, arbitrary: post("/api/login", { username: "alice", password: "wrong password" }, false) },
    {
      weight: 3,
      arbitrary: fc
        .constantFrom<Record<string, unknown>>(
          { kind: "direct", userId: "nobody_here" },
          { kind: "group", title: "t", memberIds: ["nobody_here"] },
        )
        .chain((b) => post("/api/conversations", b, true)),
    },
    {
      weight: 3,
      arbitrary: get(
        fc.oneof(
          fc.constant(`/api/conversations/${encodeURIComponent(conversationId)}/messages`),
          fc.string({ maxLength: 30 }).map((s) => `/api/conversations/${encodeURIComponent(s)}/messages`),
          fc.constantFrom("/api/conversations/%E0%A4%A/messages", "/api/conversations/__proto__/messages"),
        ),
      ),
    },
    { weight: 2, arbitrary: get(fc.constantFrom("/api/users", "/api/presence", "/api/me", "/api/conversations")) },
  );
}
