/**
 * Inbound frames as the session reads them: raw bytes → JSON → a validated ClientFrame, or a FrameError with the
 * code the client gets back. Also which failures are a dependency's (UNAVAILABLE) rather than ours (INTERNAL).
 */
import type { RawData } from "ws";
import { clientFrameSchema, describeZodError, type ClientFrame, type ErrorCode, type ServerFrame } from "../contracts";

const knownTypes = new Set<string>(clientFrameSchema.options.map((o) => o.shape.type.value));

export type ErrorRef = NonNullable<Extract<ServerFrame, { type: "error" }>["ref"]>;

/** A frame the client got wrong, or may not send: answered with an `error` frame carrying `code`. */
export class FrameError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const NOT_JSON = Symbol("not json");

export function safeJson(data: RawData, isBinary: boolean): unknown {
  if (isBinary) return NOT_JSON;
  try {
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer);
    return JSON.parse(buf.toString("utf8")) as unknown;
  } catch {
    return NOT_JSON;
  }
}

/** Echoes the identifying fields of a frame in an error, so the client can tell which one failed. */
export function refOf(raw: unknown): ErrorRef | undefined {
  if (!raw || typeof raw !== "object") return undefined;
  const r = raw as Record<string, unknown>;
  const ref: ErrorRef = {};
  const str = (v: unknown) => typeof v === "string" && v.length <= 200;
  if (str(r.type)) ref.type = r.type as string;
  if (str(r.clientMessageId)) ref.clientMessageId = r.clientMessageId as string;
  if (str(r.conversationId)) ref.conversationId = r.conversationId as string;
  return Object.keys(ref).length ? ref : undefined;
}

export function parseFrame(raw: unknown): ClientFrame {
  if (raw === NOT_JSON) throw new FrameError("BAD_FRAME", "frames must be JSON text");
  if (!raw || typeof raw !== "object" || Array.isArray(raw))
    throw new FrameError("BAD_FRAME", "a frame is a JSON object");
  const type = (raw as { type?: unknown }).type;
  if (typeof type !== "string" || !knownTypes.has(type)) {
    throw new FrameError("BAD_FRAME", `unknown frame type; expected one of ${[...knownTypes].join(", ")}`);
  }
  const parsed = clientFrameSchema.safeParse(raw);
  if (!parsed.success) {
    throw new FrameError("VALIDATION", describeZodError(parsed.error, { root: type }));
  }
  return parsed.data;
}

/** Whether a failure was an AWS call or the network failing (UNAVAILABLE: try again) rather than a bug. */
export function isAwsError(err: unknown): boolean {
  const e = err as { $metadata?: unknown; name?: string; code?: string };
  return (
    e?.$metadata !== undefined ||
    ["TimeoutError", "AbortError"].includes(e?.name ?? "") ||
    ["ECONNREFUSED", "ECONNRESET"].includes(e?.code ?? "")
  );
}
