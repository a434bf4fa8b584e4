/**
 * Test users: unique names, signup over HTTP, and users written straight to the users table with tokens minted
 * locally (100 users without 100 scrypt runs).
 */
import { createHmac, randomBytes } from "node:crypto";
import { createDynamoClient } from "../../runtime/aws/clients";
import { env, tableNamesFor } from "../../runtime/contracts";
import { LOCAL_PREFIX, type LocalStack } from "../../runtime/local/stack";
import type { Db } from "../../runtime/store/db";
import { createUser } from "../../runtime/store/users";
import { api } from "./clients";

let counter = 0;
/** A unique, valid username per test run. */
export function uniqueName(stem: string): string {
  return `${stem}_${randomBytes(3).toString("hex")}${(counter++).toString(36)}`.slice(0, 32);
}

export interface TestUser {
  userId: string;
  token: string;
}

export async function signup(base: string, stem: string, password = "correct horse battery"): Promise<TestUser> {
  const r = await api(base, "POST", "/api/signup", { username: uniqueName(stem), password });
  if (r.status !== 201) throw new Error(`signup failed: ${r.status} ${JSON.stringify(r.body)}`);
  return { userId: r.body.user.userId, token: r.body.token };
}

/** An HS256 JWT exactly as the gateway issues them, minted with the stack's secret. */
export function mintToken(secret: string, userId: string, opts: { expSeconds?: number; aud?: string } = {}): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  const head = b64({ alg: "HS256", typ: "JWT" });
  const body = b64({
    sub: userId,
    iss: "parley",
    aud: opts.aud ?? "parley-web",
    iat: now,
    exp: now + (opts.expSeconds ?? 3600),
  });
  const sig = createHmac("sha256", secret).update(`${head}.${body}`).digest("base64url");
  return `${head}.${body}.${sig}`;
}

/** A user row nobody can log in as (no password hash to match), for tests that mint the user's token. */
export async function storeUser(db: Db<"users" | "userNames">, userId: string): Promise<void> {
  await createUser(db, { userId, displayName: userId, passwordHash: "scrypt$disabled", createdAt: Date.now() });
}

/** Users written straight to the users table with tokens minted locally: bulk setup for fan-out tests. */
export async function bulkUsers(stack: LocalStack, stem: string, n: number): Promise<TestUser[]> {
  const ddb = createDynamoClient(stack.aws);
  const db = { ddb, tables: tableNamesFor(LOCAL_PREFIX) };
  const secret = stack.gatewayBaseEnv[env.jwtSecret]!;
  try {
    const users = Array.from({ length: n }, (_, i) => uniqueName(`${stem}${i}`));
    for (let i = 0; i < users.length; i += 20) {
      await Promise.all(users.slice(i, i + 20).map((userId) => storeUser(db, userId)));
    }
    return users.map((userId) => ({ userId, token: mintToken(secret, userId) }));
  } finally {
    ddb.destroy();
  }
}
