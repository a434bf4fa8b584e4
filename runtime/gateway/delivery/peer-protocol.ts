/**
 * The wire format between gateways on the internal port: the paths, the secret header and the request and
 * response bodies. Both sides import it — peer.ts sends these requests, internal.ts answers them.
 */
import { z } from "zod";
import { conversationIdSchema, seqSchema, userIdSchema } from "../../contracts";

export const INTERNAL_SECRET_HEADER = "x-parley-internal-secret";
export const internalPaths = { deliver: "/internal/deliver", invalidate: "/internal/invalidate" } as const;

export const deliverRequestSchema = z.object({
  deliveries: z
    .array(
      z.object({
        /** The serialized frame, pushed as is. */
        frame: z.string(),
        connectionIds: z.array(z.string().max(128)).max(10_000),
        /** Set for `message` frames so the owning session can order and dedupe them. */
        message: z.object({ conversationId: conversationIdSchema, seq: seqSchema }).optional(),
      }),
    )
    .max(10_000),
});
export type DeliverRequest = z.infer<typeof deliverRequestSchema>;
export type Delivery = DeliverRequest["deliveries"][number];

export const deliverResponseSchema = z.object({ missing: z.array(z.string()) });

export const invalidateRequestSchema = z.object({
  /** Forget these users' cached live connections (they just connected somewhere). */
  userIds: z.array(userIdSchema).max(1000).default([]),
  /** Forget these users' cached co-member lists (a conversation including them was just created). */
  contacts: z.array(userIdSchema).max(1000).default([]),
  /** Forget these conversations' cached members and titles (a membership or title entry was stored). */
  conversations: z.array(conversationIdSchema).max(1000).default([]),
  /**
   * The connection changes behind `userIds`, where known: a lookup that already shows them is current even
   * while the index may lag (ConnectionDirectory#ofUser). Gateways that predate it ignore it.
   */
  changes: z
    .array(z.object({ userId: userIdSchema, connectionId: z.string().min(1).max(128), open: z.boolean() }))
    .max(1000)
    .default([]),
});
/** A connection that just opened (`open`) or closed for its user. */
export interface ConnectionChange {
  readonly userId: string;
  readonly connectionId: string;
  readonly open: boolean;
}
export type Invalidation = {
  readonly userIds?: readonly string[];
  readonly changes?: readonly ConnectionChange[];
  readonly contacts?: readonly string[];
  readonly conversations?: readonly string[];
};
