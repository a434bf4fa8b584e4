/**
 * Mints the handshake matrix's tokens with jose, the library the gateway verifies with. A separate tsx
 * process because jose is ESM-only and jest loads test files as CommonJS. Reads the stack's secret and the
 * subject from the env, prints { name: token } as JSON.
 */
import { SignJWT, UnsecuredJWT } from "jose";
import { env } from "../../../runtime/contracts";

async function main(): Promise<void> {
  const secret = new TextEncoder().encode(process.env[env.jwtSecret]);
  const wrongKey = new TextEncoder().encode("an-entirely-different-secret-of-32+-chars");
  const sub = process.env.MINT_SUBJECT!;
  const now = Math.floor(Date.now() / 1000);
  const base = (alg = "HS256") =>
    new SignJWT({})
      .setProtectedHeader({ alg, typ: "JWT" })
      .setSubject(sub)
      .setIssuer("parley")
      .setAudience("parley-web")
      .setIssuedAt(now)
      .setExpirationTime(now + 3600);
  const tokens: Record<string, string> = {
    valid: await base().sign(secret),
    expired: await base()
      .setIssuedAt(now - 7200)
      .setExpirationTime(now - 60)
      .sign(secret),
    algNone: new UnsecuredJWT({})
      .setSubject(sub)
      .setIssuer("parley")
      .setAudience("parley-web")
      .setIssuedAt(now)
      .setExpirationTime(now + 3600)
      .encode(),
    wrongKey: await base().sign(wrongKey),
    wrongAudience: await base().setAudience("parley-admin").sign(secret),
    wrongIssuer: await base().setIssuer("someone-else").sign(secret),
    otherAlgorithm: await base("HS512").sign(secret),
    notYetValid: await base()
      .setNotBefore(now + 3600)
      .sign(secret),
    noExpiry: await new SignJWT({})
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(sub)
      .setIssuer("parley")
      .setAudience("parley-web")
      .setIssuedAt(now)
      .sign(secret),
    badSubject: await base().setSubject("Robert'); DROP TABLE").sign(secret),
  };
  // The signature of a valid token re-attached to a payload naming someone else.
  const [h, , s] = tokens.valid!.split(".");
  const forged = Buffer.from(
    JSON.stringify({ sub: "admin", iss: "parley", aud: "parley-web", iat: now, exp: now + 3600 }),
  );
  tokens.tamperedPayload = `${h}.${forged.toString("base64url")}.${s}`;
  process.stdout.write(JSON.stringify(tokens));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
