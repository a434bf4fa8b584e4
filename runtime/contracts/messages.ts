/**
 * The conversation log: what goes on the inbound FIFO queue (the write-ahead log), what the persister stores in
 * the messages table under the conversation's gap-free seq, and what the notification queue carries. A
 * conversation's log holds its messages and every change to it — edit, delete, reaction, member added, removed
 * or left, renamed — each an entry with its own seq, so live delivery, sync and history paging carry them all
 * in one order. docs/protocol.md describes each kind. No Node imports: the web client imports this module.
 */
import { z } from "zod";
import { clientMessageIdSchema, conversationIdSchema, messageBodySchema, seqSchema, userIdSchema } from "./ids";

/** The kinds of log entry besides a message. A client ignores a kind it does not know (it still has a seq). */
export const eventKinds = ["edit", "delete", "react", "add", "remove", "leave", "rename"] as const;
export type EventKind = (typeof eventKinds)[number];
/** Membership and title changes: the persister applies them to the conversation item. */
export const conversationEventKinds = ["add", "remove", "leave", "rename"] as const satisfies readonly EventKind[];
/** Changes to one earlier message (`target`): the persister applies them to that message's item. */
export const messageEventKinds = ["edit", "delete", "react"] as const satisfies readonly EventKind[];

export const GROUP_TITLE_MAX = 100;
/** Distinct emoji one message can carry; a reaction with a new emoji beyond it is refused (LIMIT_REACHED). */
export const MAX_REACTION_EMOJI = 20;
/** Edits one message can have: each stored edit keeps its body until the message is deleted, which erases it. */
export const MAX_EDITS_PER_MESSAGE = 100;
/** Members one add can name. */
export const MAX_ADD_MEMBERS = 50;
/** Default of PARLEY_EDIT_WINDOW_SECONDS: how long after sending the sender may edit a message. */
export const DEFAULT_EDIT_WINDOW_SECONDS = 24 * 3600;

export const groupTitleSchema = z
  .string()
  .max(GROUP_TITLE_MAX, `must be at most ${GROUP_TITLE_MAX} characters`)
  .refine((s) => s.trim().length > 0, "must not be blank");

/**
 * One emoji (a pictograph with its modifiers, joiners and variation selectors, a keycap, or a flag): at most 32
 * UTF-16 units of emoji characters, at least one of them a pictograph or a regional indicator.
 */
export const emojiSchema = z
  .string()
  .min(1)
  .max(32, "must be one emoji")
  .regex(/^(?:[\p{Extended_Pictographic}\p{Emoji_Component}]|\u200d|\ufe0f|\u20e3)+$/u, "must be an emoji")
  .refine((s) => /[\p{Extended_Pictographic}\p{Regional_Indicator}]/u.test(s), "must be an emoji");

const targetSchema = seqSchema.min(1);

/** What every inbound entry carries: group id = conversationId, dedupe by (sender, clientMessageId). */
const inboundBase = {
  v: z.literal(1),
  conversationId: conversationIdSchema,
  senderId: userIdSchema,
  clientMessageId: clientMessageIdSchema,
  /** Epoch ms at which the gateway accepted it. */
  sentAt: z.number().int().positive(),
};

/** A message on the inbound queue. `kind` is absent on the entries of gateways older than the event kinds. */
export const inboundMessageSchema = z
  .object({
    ...inboundBase,
    kind: z.literal("message").optional(),
    body: messageBodySchema,
    /** The seq of the message this one replies to. */
    replyTo: targetSchema.optional(),
  })
  .strict();
export type InboundMessage = z.infer<typeof inboundMessageSchema>;

/**
 * The event kinds over a base: the inbound one (with `v`) and the stored one (with seq and times). A stored
 * edit's body may be "" (erased when its message was deleted).
 */
function eventSchemas<B extends z.ZodRawShape>(base: B, editBody: z.ZodType<string>) {
  return [
    z.object({ ...base, kind: z.literal("edit"), target: targetSchema, body: editBody }).strict(),
    z.object({ ...base, kind: z.literal("delete"), target: targetSchema }).strict(),
    z.object({ ...base, kind: z.literal("react"), target: targetSchema, emoji: emojiSchema, on: z.boolean() }).strict(),
    z.object({ ...base, kind: z.literal("add"), userIds: z.array(userIdSchema).min(1).max(MAX_ADD_MEMBERS) }).strict(),
    z.object({ ...base, kind: z.literal("remove"), userId: userIdSchema }).strict(),
    z.object({ ...base, kind: z.literal("leave") }).strict(),
    z.object({ ...base, kind: z.literal("rename"), title: groupTitleSchema }).strict(),
  ] as const;
}

export const inboundEventSchema = z.discriminatedUnion("kind", eventSchemas(inboundBase, messageBodySchema));
export type InboundEvent = z.infer<typeof inboundEventSchema>;
export type InboundEntry = InboundMessage | InboundEvent;

/** Parses an inbound queue body's JSON: a message (with or without `kind`) or an event. */
export function parseInboundEntry(json: unknown): z.ZodSafeParseResult<InboundEntry> {
  const kind = json && typeof json === "object" ? (json as { kind?: unknown }).kind : undefined;
  return kind === undefined || kind === "message"
    ? inboundMessageSchema.safeParse(json)
    : inboundEventSchema.safeParse(json);
}

export const isInboundEvent = (e: InboundEntry): e is InboundEvent => e.kind !== undefined && e.kind !== "message";

/** A reply's reference as stored; `preview` and `deleted` are the quoted message's as of reading. */
export const replyRefSchema = z
  .object({
    seq: targetSchema,
    senderId: userIdSchema,
    preview: z.string().optional(),
    deleted: z.boolean().optional(),
  })
  .strict();
export type ReplyRef = z.infer<typeof replyRefSchema>;

const storedBase = {
  conversationId: conversationIdSchema,
  seq: seqSchema.min(1),
  senderId: userIdSchema,
  clientMessageId: clientMessageIdSchema,
  sentAt: z.number().int(),
  storedAt: z.number().int(),
};

/**
 * A stored message as the store returns it and clients receive it: the latest body (edits replace it), and the
 * state later entries gave it. A deleted message is a tombstone: `deleted: true`, `body` "" (erased from the
 * table, its edits' bodies too). `rev` is the seq of the last entry applied to it: a client that has the
 * message at `rev` skips replayed entries at or below it.
 */
export const storedMessageSchema = z
  .object({
    ...storedBase,
    kind: z.literal("message").optional(),
    body: z.string(),
    replyTo: replyRefSchema.optional(),
    editedAt: z.number().int().optional(),
    deleted: z.literal(true).optional(),
    /** emoji → the users who reacted with it, in the order they did. */
    reactions: z.record(z.string(), z.array(userIdSchema)).optional(),
    /** Seqs of the stored edits of this message (erased with it). */
    edits: z.array(seqSchema).optional(),
    rev: seqSchema.optional(),
  })
  .strict();
export type StoredMessage = z.infer<typeof storedMessageSchema>;

/** A stored event: the inbound entry as the persister accepted it, with its seq. */
export const storedEventSchema = z.discriminatedUnion("kind", eventSchemas(storedBase, z.string()));
export type StoredEvent = z.infer<typeof storedEventSchema>;
export type StoredEntry = StoredMessage | StoredEvent;

export const isStoredEvent = (e: StoredEntry): e is StoredEvent => e.kind !== undefined && e.kind !== "message";

export const storedEntrySchema = z.union([storedMessageSchema, storedEventSchema]);

/**
 * Body of a notification-queue message: one per stored entry, with the users to route it to. For a membership
 * event `memberIds` are the members before and after it (a removed member is told), and `members` the
 * conversation's members after it.
 */
export const notificationSchema = z
  .object({
    v: z.literal(1),
    message: storedEntrySchema,
    memberIds: z.array(userIdSchema).min(1),
    members: z.array(userIdSchema).optional(),
  })
  .strict();
export type Notification = Omit<z.infer<typeof notificationSchema>, "message"> & { message: StoredEntry };
