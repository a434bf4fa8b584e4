/**
 * The wire as the connection sees it: the part of the browser WebSocket it uses (tests pass a fake) and how an
 * incoming text frame becomes a `ServerFrame`.
 */
import type { ServerFrame } from "../../../runtime/contracts/frames";

/** The subset of the browser WebSocket this client uses. */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: Event) => unknown) | null;
  onmessage: ((ev: MessageEvent) => unknown) | null;
  onclose: ((ev: CloseEvent) => unknown) | null;
  onerror: ((ev: Event) => unknown) | null;
}

export function parseServerFrame(data: unknown): ServerFrame | undefined {
  if (typeof data !== "string") return undefined;
  try {
    const value: unknown = JSON.parse(data);
    if (typeof value === "object" && value !== null && typeof (value as { type?: unknown }).type === "string") {
      return value as ServerFrame;
    }
  } catch {
    // A frame we cannot parse is dropped; the server never sends one on purpose.
  }
  return undefined;
}
