/**
 * Why a dead letter died, when it can be told from the message alone (and, for inbound messages, from the
 * conversations table): the same checks the persister makes, so the reason matches what it logged.
 */
import {
  DEFAULT_EDIT_WINDOW_SECONDS,
  describeZodError,
  notificationSchema,
  refusalOf,
  targetOf,
  type QueueKey,
} from "../../runtime/contracts";
import { PoisonMessageError } from "../../runtime/persister/errors";
import { parseInbound } from "../../runtime/persister/persist-batch";
import { getConversation } from "../../runtime/store/conversations";
import type { Db } from "../../runtime/store/db";
import { getMessage } from "../../runtime/store/messages";

export const TRANSIENT_REASON = "body is valid: the failure was transient or has been fixed since — redrive it";

/**
 * `db` is optional: without table env vars, membership and existence are not checked. With `messages` too, an
 * entry that names a message (an edit, delete, reaction or reply) is checked against that message as it is now.
 * The rules are the persister's (entry-rules.ts), on today's state rather than the state at the entry's place in
 * the order, so a reason can differ from the code the persister logged (its log line has the exact one).
 */
export async function deadLetterReason(
  key: QueueKey,
  body: string,
  db?: Db<"conversations">,
  messages?: Db<"messages">,
): Promise<string> {
  if (key === "notify") {
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      return "body is not JSON";
    }
    const parsed = notificationSchema.safeParse(json);
    if (!parsed.success) {
      return describeZodError(parsed.error, { root: "body", all: true });
    }
    return "body is valid: no gateway could deliver it before maxReceiveCount (all gateways down?) — redrive it";
  }
  try {
    const m = parseInbound(body);
    if (!db) return `${TRANSIENT_REASON} (membership not checked: no conversations table in the env)`;
    const c = await getConversation(db, m.conversationId, true);
    if (!c) return `conversation ${m.conversationId} does not exist`;
    if (!c.memberIds.includes(m.senderId)) return `${m.senderId} is not a member of ${m.conversationId}`;
    const target = targetOf(m);
    if (target !== undefined && !messages)
      return `${TRANSIENT_REASON} (seq ${target} not checked: no messages table in the env)`;
    const quoted = target !== undefined ? await getMessage(messages!, m.conversationId, target) : undefined;
    const refusal = refusalOf(m, c, quoted, { editWindowMs: DEFAULT_EDIT_WINDOW_SECONDS * 1000 });
    if (refusal) return `${refusal.code}: ${refusal.message}`;
    return TRANSIENT_REASON;
  } catch (err) {
    if (err instanceof PoisonMessageError) return err.message;
    return `could not check: ${(err as Error).message}`;
  }
}
