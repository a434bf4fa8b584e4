/**
 * The last hop on the gateway holding the socket: a frame is handed to the local session, which orders and
 * dedupes `message` frames in its outbox. Routing (for connections held here) and the internal endpoint (for
 * deliveries a peer forwarded) both end in pushToLocal.
 */
import type { LocalSessions, MessageRef } from "../sessions";
import type { Delivery } from "./peer-protocol";

/** Pushes one serialized frame to a socket this gateway holds; false when it holds no such socket. */
export function pushToLocal(
  sessions: LocalSessions,
  connectionId: string,
  frame: string,
  message: MessageRef | undefined,
): boolean {
  const s = sessions.get(connectionId);
  if (!s) return false;
  if (message) s.pushMessage(message, frame);
  else s.push(frame);
  return true;
}

/** Pushes each delivery to the local sockets it names; answers the ids this gateway does not hold. */
export function deliverLocally(sessions: LocalSessions, deliveries: readonly Delivery[]): string[] {
  const missing: string[] = [];
  for (const d of deliveries) {
    for (const id of d.connectionIds) if (!pushToLocal(sessions, id, d.frame, d.message)) missing.push(id);
  }
  return missing;
}
