/**
 * Shapes of the HTTP API's JSON (docs/protocol.md has the routes). Types only, no Node imports: the gateway
 * produces them and the web client imports them.
 */

export interface User {
  userId: string;
  displayName: string;
}

/** One row of the chat list: the conversation's summary plus the caller's read position. */
export interface ConversationSummary {
  conversationId: string;
  kind: "direct" | "group";
  title?: string;
  memberIds: string[];
  lastSeq: number;
  lastMessageAt?: number;
  lastPreview?: string;
  lastSenderId?: string;
  lastReadSeq: number;
  /** lastSeq − lastReadSeq. */
  unread: number;
  createdAt: number;
}

export interface PresenceStatus {
  userId: string;
  online: boolean;
  lastSeen: number;
}

export type NewConversation =
  { kind: "direct"; userId: string } | { kind: "group"; title: string; memberIds: string[] };

/** `POST /api/logout`: the bearer token is revoked on every gateway until it would have expired. */
export interface LogoutResponse {
  ok: true;
}

/** Body of every error response, with the HTTP status. */
export interface ApiErrorBody {
  error: { code: string; message: string };
}
