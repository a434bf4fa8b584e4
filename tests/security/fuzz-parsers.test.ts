/* eslint-disable @typescript-eslint/no-explicit-any -- probing Object.prototype for pollution */
/**
 * In-process fuzzing of the pure parsers at the edges — the gateway's frame parser (zod schemas from the
 * contracts) and the persister's inbound parser — with fast-check: ≥ 10,000 random and mutated inputs, many
 * carrying `__proto__` / `constructor` keys. Each input is either accepted as a schema-valid value or refused
 * with a typed error; nothing else is thrown, and Object.prototype is never touched.
 */
import fc from "fast-check";
import { clientFrameSchema, errorCodes, inboundMessageSchema } from "../../runtime/contracts";
import { parseFrame } from "../../runtime/gateway/frames";
import { PoisonMessageError } from "../../runtime/persister/errors";
import { parseInbound } from "../../runtime/persister/persist-batch";
import { frameText } from "./support/arbitraries";

const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort().join();

/** Plain checks, not expect(): they run 13,000 times. */
function check(ok: boolean, what: string, input: string): void {
  if (!ok) throw new Error(`${what} for input ${JSON.stringify(input).slice(0, 300)}`);
}

function assertNoPollution(input: string): void {
  check(({} as any).polluted === undefined && ({} as any).type === undefined, "Object.prototype polluted", input);
  check(
    Object.getOwnPropertyNames(Object.prototype).sort().join() === prototypeKeys,
    "Object.prototype changed",
    input,
  );
}

const tryJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

test("10,000 random and mutated client frames: a valid frame or BAD_FRAME/VALIDATION, never pollution", () => {
  let accepted = 0;
  let refused = 0;
  fc.assert(
    fc.property(frameText("g:fuzzconversation1"), (text) => {
      try {
        const frame = parseFrame(tryJson(text));
        // Whatever passes is exactly what the schema allows: no extra keys ride along.
        check(clientFrameSchema.safeParse(frame).success, "parsed frame fails the schema", text);
        check(!Object.keys(frame).includes("__proto__"), "__proto__ key survived parsing", text);
        accepted++;
      } catch (err) {
        const code = (err as { code?: string }).code ?? "";
        if (!["BAD_FRAME", "VALIDATION"].includes(code) || !(errorCodes as readonly string[]).includes(code)) throw err;
        refused++;
      }
      assertNoPollution(text);
    }),
    { numRuns: 10_000 },
  );
  console.log(`frames: ${accepted} parsed, ${refused} refused`);
  expect(accepted + refused).toBe(10_000);
  expect(accepted).toBeGreaterThan(0);
  expect(refused).toBeGreaterThan(0);
});

test("3,000 random and mutated inbound queue bodies: an InboundMessage or a PoisonMessageError", () => {
  const valid = {
    v: 1,
    conversationId: "g:fuzzconversation1",
    senderId: "alice",
    clientMessageId: "m1",
    body: "hi",
    sentAt: 1,
  };
  const bodies = fc.oneof(
    frameText("g:fuzzconversation1"),
    fc
      .tuple(fc.constantFrom(...Object.keys(valid)), fc.jsonValue({ maxDepth: 2 }))
      .map(([k, v]) => JSON.stringify({ ...valid, [k]: v })),
    fc.constant(JSON.stringify(valid)),
    fc.constant(JSON.stringify(valid).replace(/}$/, ',"__proto__":{"polluted":"yes"}}')),
  );
  let ok = 0;
  fc.assert(
    fc.property(bodies, (text) => {
      try {
        const m = parseInbound(text);
        check(inboundMessageSchema.safeParse(m).success, "parsed inbound message fails the schema", text);
        ok++;
      } catch (err) {
        if (!(err instanceof PoisonMessageError)) throw err;
      }
      assertNoPollution(text);
    }),
    { numRuns: 3_000 },
  );
  expect(ok).toBeGreaterThan(0);
});
