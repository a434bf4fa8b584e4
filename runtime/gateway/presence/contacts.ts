/**
 * Contacts: who shares a conversation with a user (the people its presence changes go to), cached per user.
 * A new conversation makes every gateway forget its members' entries; a notification naming a conversation an
 * entry was not read from drops that entry too, which bounds what a lost invalidation leaves behind.
 */
import { getConversations } from "../../store/conversations";
import { listMemberships } from "../../store/memberships";
import type { GatewayContext } from "../context";
import type { PeerClient } from "../delivery/peer";
import { TtlCache } from "../util";
import type { PeerList } from "./registry";

export class Contacts {
  /** Per user: co-members, and the conversations they were read from (to notice a conversation created since). */
  private readonly coMembers: TtlCache<string, { contacts: string[]; conversationIds: Set<string> }>;
  /** Bumped by forget so a read that started earlier does not cache its stale answer. */
  private readonly generation = new Map<string, number>();

  constructor(
    private readonly ctx: GatewayContext,
    private readonly deps: { readonly peers: PeerList; readonly peerClient: PeerClient },
  ) {
    this.coMembers = new TtlCache(30_000, 100_000, ctx.now);
  }

  /** Users who share at least one conversation with `userId` (read from the tables when `fresh`). */
  async contactsOf(userId: string, fresh = false): Promise<string[]> {
    const cached = fresh ? undefined : this.coMembers.get(userId);
    if (cached) return cached.contacts;
    const gen = this.generation.get(userId) ?? 0;
    const memberships = await listMemberships(this.ctx.db, userId);
    const conversations = await getConversations(
      this.ctx.db,
      memberships.map((m) => m.conversationId),
    );
    const contacts = new Set<string>();
    for (const c of conversations) for (const m of c.memberIds) if (m !== userId) contacts.add(m);
    const list = [...contacts];
    if ((this.generation.get(userId) ?? 0) === gen) {
      this.coMembers.set(userId, {
        contacts: list,
        conversationIds: new Set(conversations.map((c) => c.conversationId)),
      });
    }
    return list;
  }

  /**
   * The conversations `userId` is in: those of a cached co-member read (it is dropped whenever a membership of
   * the user changes, like every entry here), else read now.
   */
  async conversationIdsOf(userId: string): Promise<string[]> {
    const cached = this.coMembers.get(userId);
    if (cached) return [...cached.conversationIds];
    return (await listMemberships(this.ctx.db, userId)).map((m) => m.conversationId);
  }

  /**
   * A conversation including `memberIds` was created: every gateway forgets their cached co-members, so presence
   * changes reach the new contacts. Best effort across gateways; noteConversationMembers bounds what a lost
   * request leaves behind.
   */
  async conversationCreated(memberIds: readonly string[]): Promise<void> {
    this.forget(memberIds);
    const peers = await this.deps.peers.refreshPeers();
    await this.deps.peerClient.invalidatePeers(peers, { contacts: memberIds });
  }

  /**
   * Called for every routed `message` notification: a member whose cached co-members were read before this
   * conversation existed loses the entry, so the next presence change looks again.
   */
  noteConversationMembers(conversationId: string, memberIds: readonly string[]): void {
    for (const m of memberIds) {
      const cached = this.coMembers.get(m);
      if (cached && !cached.conversationIds.has(conversationId)) this.coMembers.delete(m);
    }
  }

  /** Drops the cached co-members of `userIds` (a peer created a conversation including them). */
  forget(userIds: readonly string[]): void {
    for (const u of userIds) {
      this.coMembers.delete(u);
      this.generation.set(u, (this.generation.get(u) ?? 0) + 1);
    }
    if (this.generation.size > 200_000) this.generation.clear();
  }
}
