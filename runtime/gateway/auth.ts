/**
 * Accounts and tokens: scrypt password hashes with a per-user salt, HS256 JWTs with pinned algorithm,
 * issuer, audience and expiry, each with an id (jti) that logout revokes (the failed-login throttle is in
 * throttle.ts and store/auth.ts). Tokens are signed with the current secret and, during a rotation, verified
 * with any value still in force (secrets.ts).
 */
import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from "node:crypto";
import { SignJWT, errors as joseErrors, jwtVerify, type JWTPayload } from "jose";
import { userIdSchema, type SecretRotation } from "../contracts";
import { acceptedSecrets } from "./secrets";

export { addressThrottle, defaultThrottle, LoginThrottle, type ThrottleOptions } from "./throttle";

// OWASP's scrypt floor (N=2^17 is recommended for new systems; 2^15 keeps signup bursts on a 2-core box fast
// while staying well above the 2^14 minimum). maxmem must cover 128 * N * r bytes.
const SCRYPT = { N: 2 ** 15, r: 8, p: 1, keyLen: 32 } as const;

function scrypt(password: string, salt: Buffer, keyLen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scryptCb(password.normalize("NFKC"), salt, keyLen, opts, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const { N, r, p, keyLen } = SCRYPT;
  const key = await scrypt(password, salt, keyLen, { N, r, p, maxmem: 256 * N * r });
  return ["scrypt", N, r, p, salt.toString("base64url"), key.toString("base64url")].join("$");
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split("$");
  if (scheme !== "scrypt" || !salt || !hash) return false;
  const expected = Buffer.from(hash, "base64url");
  const N = Number(n);
  const key = await scrypt(password, Buffer.from(salt, "base64url"), expected.length, {
    N,
    r: Number(r),
    p: Number(p),
    maxmem: 256 * N * Number(r),
  });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/**
 * A hash of a random password, verified against when the user does not exist, so a login for an unknown
 * name costs the same scrypt time as a wrong password (no user enumeration by timing).
 */
let decoyHash: Promise<string> | undefined;
export function decoyPasswordHash(): Promise<string> {
  decoyHash ??= hashPassword(randomBytes(16).toString("hex"));
  return decoyHash;
}

export interface TokenSettings {
  /** Signs every token issued. */
  readonly secret: string;
  /** Values also accepted by verify while a rotation is under way. */
  readonly rotation?: SecretRotation;
  /** Epoch ms; decides expiry and the previous secret's grace window. Default Date.now. */
  readonly now?: () => number;
  readonly issuer: string;
  readonly audience: string;
  readonly ttlSeconds: number;
}

export interface VerifiedToken {
  readonly userId: string;
  /** Epoch seconds. */
  readonly expiresAt: number;
  /**
   * What a revocation names: the `jti` claim, which every token this service issues has; for a token without
   * one (minted elsewhere with the same key), the SHA-256 of the token itself.
   */
  readonly tokenId: string;
}

/** Answers whether a verified token was revoked (logout); a dependency failure rejects (a 503, never a 401). */
export type RevocationCheck = (tokenId: string) => Promise<boolean>;

export class AuthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AuthError";
  }
}

const ALG = "HS256";

const encodeKey = (secret: string): Uint8Array => new TextEncoder().encode(secret);

export class TokenService {
  private readonly key: Uint8Array;
  private readonly now: () => number;

  constructor(
    private readonly settings: TokenSettings,
    private readonly isRevoked?: RevocationCheck,
  ) {
    this.key = encodeKey(settings.secret);
    this.now = settings.now ?? Date.now;
  }

  async issue(userId: string): Promise<string> {
    const issuedAt = Math.floor(this.now() / 1000);
    return new SignJWT({})
      .setProtectedHeader({ alg: ALG, typ: "JWT" })
      .setJti(randomBytes(16).toString("base64url"))
      .setSubject(userId)
      .setIssuer(this.settings.issuer)
      .setAudience(this.settings.audience)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + this.settings.ttlSeconds)
      .sign(this.key);
  }

  /**
   * Throws AuthError for anything but a valid, unexpired, unrevoked token of ours for a well-formed user id.
   * The revocation check runs outside the catch-all: a table that cannot be read is an error, not a 401.
   */
  async verify(token: string): Promise<VerifiedToken> {
    const verified = await this.verifySignedClaims(token);
    if (this.isRevoked && (await this.isRevoked(verified.tokenId))) throw new AuthError("invalid or expired token");
    return verified;
  }

  /**
   * The claims of a token signed with any secret in force. Only a signature mismatch moves on to the next value:
   * the signature is checked before the claims, so an expired or foreign-audience token fails the same way under
   * every value.
   */
  private async verifiedPayload(token: string): Promise<JWTPayload> {
    const now = this.now();
    const secrets = acceptedSecrets(this.settings.secret, this.settings.rotation, now);
    for (let i = 0; ; i++) {
      try {
        const { payload } = await jwtVerify(token, i === 0 ? this.key : encodeKey(secrets[i]!), {
          algorithms: [ALG],
          issuer: this.settings.issuer,
          audience: this.settings.audience,
          requiredClaims: ["sub", "exp", "iat"],
          currentDate: new Date(now),
        });
        return payload;
      } catch (err) {
        if (i === secrets.length - 1 || !(err instanceof joseErrors.JWSSignatureVerificationFailed)) throw err;
      }
    }
  }

  private async verifySignedClaims(token: string): Promise<VerifiedToken> {
    try {
      const payload = await this.verifiedPayload(token);
      const userId = userIdSchema.safeParse(payload.sub);
      if (!userId.success || typeof payload.exp !== "number") throw new AuthError("bad subject");
      const tokenId =
        typeof payload.jti === "string" && payload.jti.length > 0 && payload.jti.length <= 128
          ? payload.jti
          : createHash("sha256").update(token).digest("base64url");
      return { userId: userId.data, expiresAt: payload.exp, tokenId };
    } catch {
      // One message for every failure: callers must not learn which check failed.
      throw new AuthError("invalid or expired token");
    }
  }
}
