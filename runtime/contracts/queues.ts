/**
 * SQS queues: the write-ahead log (inbound, FIFO) and the notification queue, each with a DLQ.
 * The Pulumi components and the local stack create them from these definitions.
 */

export interface QueueDefinition {
  readonly suffix: string;
  /** Env var carrying the queue URL. */
  readonly envVar: string;
  readonly fifo: boolean;
  readonly visibilityTimeoutSeconds: number;
  readonly messageRetentionSeconds: number;
  readonly receiveWaitTimeSeconds: number;
  /** Receives before SQS moves a message to the DLQ. */
  readonly maxReceiveCount: number;
  readonly dlqRetentionSeconds: number;
}

export const queues = {
  /** Client messages accepted by a gateway; group = conversationId gives per-conversation order. */
  inbound: {
    suffix: "inbound",
    envVar: "PARLEY_INBOUND_QUEUE_URL",
    fifo: true,
    // ≥ 6 × the persister's timeout, as AWS advises for Lambda event sources.
    visibilityTimeoutSeconds: 180,
    messageRetentionSeconds: 4 * 24 * 3600,
    receiveWaitTimeSeconds: 20,
    maxReceiveCount: 5,
    dlqRetentionSeconds: 14 * 24 * 3600,
  },
  /** Stored messages to push to online members; every gateway is a competing consumer. */
  notify: {
    suffix: "notify",
    envVar: "PARLEY_NOTIFY_QUEUE_URL",
    fifo: false,
    // Routing a batch takes milliseconds; a crashed gateway's received notifications come back this soon.
    visibilityTimeoutSeconds: 10,
    messageRetentionSeconds: 3600,
    receiveWaitTimeSeconds: 20,
    maxReceiveCount: 5,
    dlqRetentionSeconds: 14 * 24 * 3600,
  },
} as const satisfies Record<string, QueueDefinition>;

export type QueueKey = keyof typeof queues;
export const queueKeys = Object.keys(queues) as QueueKey[];

export interface QueueNames {
  readonly name: string;
  readonly dlqName: string;
}

/** SQS requires the `.fifo` suffix on FIFO queue names, DLQ included. */
export function queueNamesFor(prefix: string, key: QueueKey): QueueNames {
  const q = queues[key];
  const ext = q.fifo ? ".fifo" : "";
  return { name: `${prefix}-${q.suffix}${ext}`, dlqName: `${prefix}-${q.suffix}-dlq${ext}` };
}

/** Lambda's SQS batch ceiling for FIFO sources. */
export const MAX_PERSISTER_BATCH = 10;
/** Function timeout the inbound visibility timeout is sized against. */
export const PERSISTER_TIMEOUT_SECONDS = 30;

/**
 * The one serializer of queue message bodies (inbound and notify). SQS accepts the XML 1.0 characters
 * (#x9 | #xA | #xD | #x20–#xD7FF | #xE000–#xFFFD | #x10000–#x10FFFF); fauxqs also refuses everything above
 * U+FFFF, which made every emoji message fail locally. JSON can write any character as a `\uXXXX` escape and
 * JSON.parse restores it exactly, so the surrogate pairs of characters above U+FFFF (emoji, flags, astral CJK)
 * and U+FFFE/U+FFFF (which SQS refuses too) are written escaped: the body is then valid for both, and a reader
 * gets back the same string. Control characters JSON.stringify escapes already.
 */
export function encodeQueueBody(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\uD800-\uDFFF\uFFFE\uFFFF]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`,
  );
}
