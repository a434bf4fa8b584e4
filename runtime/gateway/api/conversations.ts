/**
 * Conversation routes of the HTTP API: the caller's chat list, creating a direct or group conversation, and
 * one page of a conversation's history for its members.
 */
import { randomBytes } from "node:crypto";
import { directConversationId } from "../../contracts";
import { MAX_GROUP_MEMBERS, type ConversationSummary } from "../../contracts/api";
import { createConversation, getConversations, readPositions, type ConversationItem } from "../../store/conversations";
import { listMemberships, readPositionOf, type MembershipItem } from "../../store/memberships";
import { getUser } from "../../store/users";
import { pageMessages } from "../../store/messages";
import type { GatewayContext } from "../context";
import { HttpError } from "../http-util";
import { errorMessage } from "../util";
import type { ApiParts, RouteHandlers } from "./types";

export function summarize(
  c: ConversationItem,
  userId: string,
  m: Pick<MembershipItem, "lastReadSeq"> | undefined,
): ConversationSummary {
  const lastReadSeq = readPositionOf(m, c, userId);
  return {
    conversationId: c.conversationId,
    kind: c.kind,
    ...(c.title !== undefined ? { title: c.title } : {}),
    memberIds: c.memberIds,
    createdBy: c.createdBy,
    lastSeq: c.lastSeq,
    ...(c.lastMessageAt !== undefined ? { lastMessageAt: c.lastMessageAt } : {}),
    ...(c.lastPreview !== undefined ? { lastPreview: c.lastPreview } : {}),
    ...(c.lastSenderId !== undefined ? { lastSenderId: c.lastSenderId } : {}),
    lastReadSeq,
    // Entries after the newest message (a reaction, an edit) are not unread messages.
    unread: lastReadSeq >= (c.lastMessageSeq ?? c.lastSeq) ? 0 : Math.max(0, c.lastSeq - lastReadSeq),
    createdAt: c.createdAt,
  };
}

export function conversationRoutes(
  ctx: GatewayContext,
  parts: Pick<ApiParts, "members" | "contacts" | "router">,
): RouteHandlers<"listConversations" | "createConversation" | "history"> {
  return {
    async listConversations({ token: { userId } }) {
      const memberships = await listMemberships(ctx.db, userId);
      const conversations = await getConversations(
        ctx.db,
        memberships.map((m) => m.conversationId),
      );
      const byId = new Map(memberships.map((m) => [m.conversationId, m]));
      const summaries = conversations
        .filter((c) => c.memberIds.includes(userId))
        .map((c) => summarize(c, userId, byId.get(c.conversationId)))
        .sort((a, b) => (b.lastMessageAt ?? b.createdAt) - (a.lastMessageAt ?? a.createdAt));
      return { status: 200, body: { conversations: summaries } };
    },

    async createConversation({ token: { userId }, body }) {
      let item: Omit<ConversationItem, "lastSeq">;
      const now = ctx.now();
      if (body.kind === "direct") {
        if (body.userId === userId) throw new HttpError(400, "VALIDATION", "userId: cannot start a chat with yourself");
        if (!(await getUser(ctx.db, body.userId))) throw new HttpError(404, "NOT_FOUND", `no user ${body.userId}`);
        item = {
          conversationId: directConversationId(userId, body.userId),
          kind: "direct",
          memberIds: [userId, body.userId].sort(),
          createdBy: userId,
          createdAt: now,
        };
      } else {
        const memberIds = [...new Set([userId, ...body.memberIds])].sort();
        if (memberIds.length > MAX_GROUP_MEMBERS) {
          throw new HttpError(400, "VALIDATION", `memberIds: at most ${MAX_GROUP_MEMBERS} members`);
        }
        const found = await Promise.all(memberIds.map((u) => getUser(ctx.db, u)));
        const missing = memberIds.filter((_, i) => !found[i]);
        if (missing.length) throw new HttpError(404, "NOT_FOUND", `no such users: ${missing.join(", ")}`);
        item = {
          conversationId: `g:${randomBytes(12).toString("base64url")}`,
          kind: "group",
          title: body.title,
          memberIds,
          createdBy: userId,
          createdAt: now,
        };
      }
      const { conversation, created } = await createConversation(ctx.db, item);
      parts.members.remember(conversation);
      // Also when it already existed: a repeated create repairs what a crash in the first one left undone.
      await parts.contacts.conversationCreated(conversation.memberIds);
      if (created) {
        const others = conversation.memberIds.filter((m) => m !== userId);
        const frame = JSON.stringify({ type: "conversation", conversationId: conversation.conversationId });
        void parts.router
          .toUsers(others, frame)
          .catch((err) => ctx.log.warn({ err: errorMessage(err) }, "new conversation fan-out failed"));
      }
      const memberships = await listMemberships(ctx.db, userId);
      const mine = memberships.find((m) => m.conversationId === conversation.conversationId);
      return { status: created ? 201 : 200, body: { conversation: summarize(conversation, userId, mine) } };
    },

    async history({ token: { userId }, params: { conversationId }, query }) {
      if (query.before !== undefined && query.after !== undefined) {
        throw new HttpError(400, "VALIDATION", "use either before or after, not both");
      }
      const conversation = await parts.members.conversationFor(userId, conversationId);
      if (!conversation) throw new HttpError(403, "NOT_MEMBER", "no such conversation, or you are not a member");
      // Scrolling back through older pages does not read every member's position again.
      const [page, positions] = await Promise.all([
        pageMessages(ctx.db, conversationId, query),
        query.before === undefined ? readPositions(ctx.db, conversationId, conversation.memberIds) : undefined,
      ]);
      return { status: 200, body: { ...page, ...(positions ? { readPositions: positions } : {}) } };
    },
  };
}
