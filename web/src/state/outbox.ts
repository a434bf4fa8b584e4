/**
 * The user's sends until the server has them: each shows as pending at once, goes out when the socket can take
 * it, and waits for `accepted` under a timer. A send without an answer while connected shows as failed (the user
 * may retry it); one that could not go out, or was cut off by a drop, goes out again when the connection is
 * live. Every attempt carries the same clientMessageId, so the server stores a message at most once.
 */
import type { ClientFrame } from "../../../runtime/contracts/frames";
import { addPending, markAccepted, markFailed, markRetrying, type StoredMessage } from "./messageList";
import type { SendFrame } from "./connection";
import { changeList, type ChatStore } from "./store";
import type { Timers } from "./timers";

/** 128 random bits, URL-safe; crypto.randomUUID is missing on plain-http origins other than localhost. */
export function newClientMessageId(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export interface OutboxDeps {
  store: ChatStore;
  /** Sends a frame if the socket can take it; false keeps the send pending until `flush`. */
  send: SendFrame;
  timers: Timers;
  now: () => number;
  newId: () => string;
  /** How long a send may wait for `accepted` while connected before it shows as failed. */
  acceptTimeoutMs: number;
}

export class Outbox {
  private readonly acceptTimers = new Map<string, unknown>();

  constructor(private readonly deps: OutboxDeps) {}

  /** Queues a new send and transmits it if the socket can take it; returns its clientMessageId. */
  add(conversationId: string, body: string): string {
    const clientMessageId = this.deps.newId();
    this.deps.store.update(
      changeList(conversationId, (l) => addPending(l, { clientMessageId, body, now: this.deps.now() })),
    );
    this.transmit(conversationId, clientMessageId);
    return clientMessageId;
  }

  /** Resends a failed send with the SAME clientMessageId. */
  retry(conversationId: string, clientMessageId: string): void {
    this.deps.store.update(changeList(conversationId, (l) => markRetrying(l, clientMessageId)));
    this.transmit(conversationId, clientMessageId);
  }

  /** The connection is live (again): every send still pending goes out, once each. */
  flush(): void {
    for (const [conversationId, list] of Object.entries(this.deps.store.getState().messages)) {
      for (const p of list.pending) if (p.status === "pending") this.transmit(conversationId, p.clientMessageId);
    }
  }

  /** `accepted`: the gateway has the message durably. */
  accepted(conversationId: string, clientMessageId: string): void {
    this.clearAcceptTimer(conversationId, clientMessageId);
    this.deps.store.update(changeList(conversationId, (l) => markAccepted(l, clientMessageId)));
  }

  /** An error frame that names a send: it failed with the server's reason. */
  rejected(conversationId: string, clientMessageId: string, error: string): void {
    this.clearAcceptTimer(conversationId, clientMessageId);
    this.deps.store.update(changeList(conversationId, (l) => markFailed(l, clientMessageId, error)));
  }

  /** Stored copies arrived (the message list replaces their pending entries): no answer is owed any more. */
  stored(conversationId: string, messages: readonly StoredMessage[]): void {
    for (const m of messages) this.clearAcceptTimer(conversationId, m.clientMessageId);
  }

  stop(): void {
    for (const t of this.acceptTimers.values()) this.deps.timers.clearTimeout(t);
    this.acceptTimers.clear();
  }

  private transmit(conversationId: string, clientMessageId: string): void {
    const { store, timers } = this.deps;
    const list = store.getState().messages[conversationId];
    const p = list?.pending.find((x) => x.clientMessageId === clientMessageId);
    if (!p || p.status !== "pending") return;
    const frame: ClientFrame = { type: "send", conversationId, clientMessageId, body: p.body };
    if (!this.deps.send(frame)) return; // stays pending; flush() sends it once live
    this.clearAcceptTimer(conversationId, clientMessageId);
    const key = timerKey(conversationId, clientMessageId);
    this.acceptTimers.set(
      key,
      timers.setTimeout(() => {
        this.acceptTimers.delete(key);
        // Only while connected: after a drop the send is retried automatically on reconnect instead.
        const status = store.getState().connection.status;
        if (status === "live" || status === "syncing") {
          store.update(changeList(conversationId, (l) => markFailed(l, clientMessageId, "No answer from the server")));
        }
      }, this.deps.acceptTimeoutMs),
    );
  }

  private clearAcceptTimer(conversationId: string, clientMessageId: string): void {
    const key = timerKey(conversationId, clientMessageId);
    const t = this.acceptTimers.get(key);
    if (t !== undefined) this.deps.timers.clearTimeout(t);
    this.acceptTimers.delete(key);
  }
}

function timerKey(conversationId: string, clientMessageId: string): string {
  return `${conversationId}|${clientMessageId}`;
}
