/**
 * Account routes of the HTTP API: signup, login (throttled per username and per address in the auth table, so
 * the lock holds on every gateway), logout (token revocation) and the caller's own profile.
 */
import { userIdSchema } from "../../contracts";
import type { User } from "../../contracts/api";
import { clearLoginFailures, loginKey, loginRetryAfter, recordLoginFailure, revokeToken } from "../../store/auth";
import { createUser, getUser, UserExistsError, type UserItem } from "../../store/users";
import { addressThrottle, decoyPasswordHash, defaultThrottle, hashPassword, verifyPassword } from "../auth";
import type { GatewayContext } from "../context";
import { clientAddress, HttpError } from "../http-util";
import type { RouteHandlers } from "./types";

const publicUser = (u: Pick<UserItem, "userId" | "displayName">): User => ({
  userId: u.userId,
  displayName: u.displayName,
});

export function accountRoutes(ctx: GatewayContext): RouteHandlers<"signup" | "login" | "logout" | "me"> {
  return {
    async signup({ body }) {
      const passwordHash = await hashPassword(body.password);
      try {
        const user = await createUser(ctx.db, {
          userId: body.username,
          displayName: body.displayName ?? body.username,
          passwordHash,
          createdAt: ctx.now(),
        });
        return { status: 201, body: { token: await ctx.tokens.issue(user.userId), user: publicUser(user) } };
      } catch (err) {
        if (err instanceof UserExistsError) throw new HttpError(409, "CONFLICT", "that username is taken");
        throw err;
      }
    },

    async login({ req, body }) {
      const username = body.username.trim().toLowerCase();
      // Counted in the auth table, so the lock holds on every gateway (one consistent read each per login).
      const userKey = loginKey("user", username);
      const addressKey = loginKey("addr", clientAddress(req).slice(0, 100));
      const now = ctx.now();
      const [byUser, byAddress] = await Promise.all([
        loginRetryAfter(ctx.db, userKey, now),
        loginRetryAfter(ctx.db, addressKey, now),
      ]);
      const wait = Math.max(byUser.waitMs, byAddress.waitMs);
      if (wait > 0) {
        throw new HttpError(429, "RATE_LIMITED", "too many failed logins; try again later", {
          "retry-after": String(Math.ceil(wait / 1000)),
        });
      }
      const user = userIdSchema.safeParse(username).success ? await getUser(ctx.db, username) : undefined;
      // Unknown users cost the same scrypt time as a wrong password.
      const ok = await verifyPassword(body.password, user?.passwordHash ?? (await decoyPasswordHash()));
      if (!user || !ok) {
        const failedAt = ctx.now();
        await Promise.all([
          recordLoginFailure(ctx.db, userKey, failedAt, defaultThrottle),
          recordLoginFailure(ctx.db, addressKey, failedAt, addressThrottle),
        ]);
        throw new HttpError(401, "UNAUTHENTICATED", "wrong username or password");
      }
      if (byUser.hasFailures) await clearLoginFailures(ctx.db, userKey);
      return { status: 200, body: { token: await ctx.tokens.issue(user.userId), user: publicUser(user) } };
    },

    async logout({ token }) {
      // Revoked until the token's own expiry, on every gateway: HTTP routes and upgrades refuse it with 401.
      await revokeToken(ctx.db, token.tokenId, token.expiresAt);
      return { status: 200, body: { ok: true } };
    },

    async me({ token }) {
      const user = await getUser(ctx.db, token.userId);
      if (!user) throw new HttpError(401, "UNAUTHENTICATED", "the account no longer exists");
      return { status: 200, body: { user: publicUser(user) } };
    },
  };
}
