/**
 * User routes of the HTTP API: search by username or display-name word prefix, browsing everyone by name, and
 * the presence of users who share a conversation with the caller.
 */
import type { PresenceStatus } from "../../contracts/api";
import { browseUserNames } from "../../store/user-names";
import { getUser, searchUsers } from "../../store/users";
import type { GatewayContext } from "../context";
import type { ApiParts, RouteHandlers } from "./types";

export function userRoutes(
  ctx: GatewayContext,
  parts: Pick<ApiParts, "directory" | "contacts">,
): RouteHandlers<"searchUsers" | "presence"> {
  return {
    async searchUsers({ query }) {
      if (!query.prefix) return { status: 200, body: await browseUserNames(ctx.db, query.limit, query.after) };
      return { status: 200, body: { users: await searchUsers(ctx.db, query.prefix, query.limit) } };
    },

    async presence({ token: { userId }, query }) {
      // An explicit question gets an answer from the tables: a cached list may predate a conversation just created.
      const contacts = new Set(await parts.contacts.contactsOf(userId, true));
      contacts.add(userId);
      const visible = query.userIds.filter((u) => contacts.has(u));
      const presence = await Promise.all(
        visible.map(async (u): Promise<PresenceStatus> => {
          // Confirmed against the base table: the byUser index can still list a connection that just closed.
          const live = await parts.directory.confirmedLive(u);
          if (live.length) return { userId: u, online: true, lastSeen: Math.max(...live.map((c) => c.lastSeen)) };
          const user = await getUser(ctx.db, u);
          return { userId: u, online: false, lastSeen: user?.lastSeen ?? 0 };
        }),
      );
      return { status: 200, body: { presence } };
    },
  };
}
