import { z } from "zod";
import { clientMessageIdSchema, conversationIdSchema, messageBodySchema, seqSchema, userIdSchema } from "./ids";

/** Body of a message on the inbound FIFO queue (the write-ahead log). Group id = conversationId. */
export const inboundMessageSchema = z
  .object({
    v: z.literal(1),
    conversationId: conversationIdSchema,
    senderId: userIdSchema,
    clientMessageId: clientMessageIdSchema,
    body: messageBodySchema,
    /** Epoch ms at which the gateway accepted the message. */
    sentAt: z.number().int().positive(),
  })
  .strict();
export type InboundMessage = z.infer<typeof inboundMessageSchema>;

/** A stored message as the store returns it and clients receive it. */
export const storedMessageSchema = z
  .object({
    conversationId: conversationIdSchema,
    seq: seqSchema.min(1),
    senderId: userIdSchema,
    clientMessageId: clientMessageIdSchema,
    body: z.string(),
    sentAt: z.number().int(),
    storedAt: z.number().int(),
  })
  .strict();
export type StoredMessage = z.infer<typeof storedMessageSchema>;

/** Body of a notification-queue message: one per stored message, with the members to route to. */
export const notificationSchema = z
  .object({
    v: z.literal(1),
    message: storedMessageSchema,
    memberIds: z.array(userIdSchema).min(1),
  })
  .strict();
export type Notification = z.infer<typeof notificationSchema>;
