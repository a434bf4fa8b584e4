/**
 * Which values of a rotating secret are in force at a moment: a rolling deploy runs tasks started before and
 * after a rotation side by side, so each accepts what the other generation signs or presents (docs/operations.md,
 * "Rotating secrets"). The previous value stops counting at its `until`, on every task at once.
 */
import type { SecretRotation } from "../contracts";

function previousInForce(rotation: SecretRotation | undefined, now: number): string[] {
  const p = rotation?.previous;
  return p && now < p.until ? [p.value] : [];
}

/** What a token or an internal request may be signed or guarded with: current, previous in its window, next. */
export function acceptedSecrets(current: string, rotation: SecretRotation | undefined, now: number): string[] {
  return [current, ...previousInForce(rotation, now), ...(rotation?.next ? [rotation.next] : [])];
}

/**
 * What this gateway presents to a peer, in order: current, then previous in its window for a peer started before
 * the rotation. Never `next`: every peer still accepts the current value while one is staged.
 */
export function presentedSecrets(current: string, rotation: SecretRotation | undefined, now: number): string[] {
  return [current, ...previousInForce(rotation, now)];
}
