/**
 * A secret's value during a rotation: the value itself, or JSON naming the current, previous and next values
 * (docs/operations.md, "Rotating secrets"). Parsed from the gateway's PARLEY_JWT_SECRET and
 * PARLEY_INTERNAL_SECRET; messages name the variable and the field, never the value.
 */
import { z } from "zod";
import { ConfigError } from "./env";
import { describeZodError } from "./validation";

/**
 * What a gateway accepts besides a secret's current value while a rotation rolls through the fleet
 * (docs/operations.md, "Rotating secrets").
 */
export interface SecretRotation {
  /** The value before the rotation: accepted, and presented to a peer that refuses the current one, until `until`. */
  readonly previous?: { readonly value: string; readonly until: number };
  /** The value the next rotation will make current: accepted, never used to sign or presented. */
  readonly next?: string;
}

export interface RotatingSecret {
  readonly current: string;
  readonly rotation?: SecretRotation;
}

const rotatingSecretSchema = z.strictObject({
  current: z.string(),
  previous: z.string().optional(),
  /** Epoch milliseconds. */
  previousUntil: z.number().int().positive().optional(),
  next: z.string().optional(),
});

/**
 * A secret's value is either the secret itself, or — during a rotation — JSON
 * `{"current": "...", "previous": "...", "previousUntil": <epoch ms>, "next": "..."}` (only `current` required).
 * Messages name the variable and the field, never the value.
 */
export function parseRotatingSecret(name: string, raw: string): RotatingSecret {
  const long = (v: string, field: string): string => {
    if (v.length < 32) throw new ConfigError(`${field} must be at least 32 characters`);
    return v;
  };
  if (!raw.startsWith("{")) return { current: long(raw, name) };
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    // The parser's message quotes the input: say only where it is.
    throw new ConfigError(`${name} starts with "{" but is not valid JSON`);
  }
  const parsed = rotatingSecretSchema.safeParse(json);
  if (!parsed.success) {
    throw new ConfigError(`${name}: ${describeZodError(parsed.error, { root: "value" })}`);
  }
  const { current, previous, previousUntil, next } = parsed.data;
  if ((previous === undefined) !== (previousUntil === undefined)) {
    throw new ConfigError(`${name}: previous and previousUntil go together (the grace window ends at previousUntil)`);
  }
  const rotation: SecretRotation = {
    ...(previous !== undefined
      ? { previous: { value: long(previous, `${name}.previous`), until: previousUntil! } }
      : {}),
    ...(next !== undefined ? { next: long(next, `${name}.next`) } : {}),
  };
  return {
    current: long(current, `${name}.current`),
    ...(rotation.previous || rotation.next ? { rotation } : {}),
  };
}
