/**
 * The user's sends and changes (edit, delete, react, add, remove, leave, rename) until the server has them: each
 * shows at once, goes out when the socket can take it, and waits for `accepted` under a timer. A send without an
 * answer while connected shows as failed (the user may retry it), a change is dropped with a notice; one that
 * could not go out, or was cut off by a drop, goes out again when the connection is live. Every attempt carries
 * the same clientMessageId, so the server stores each at most once.
 */
import type { ClientFrame } from "../../../runtime/contracts/frames";
import { errorText } from "./events";
import {
  addChange,
  addPending,
  dropChange,
  markAccepted,
  markFailed,
  markRetrying,
  type ChangeFrame,
  type StoredEntry,
} from "./messageList";
import type { SendFrame } from "./connection";
import { changeList, noticeIn, type ChatStore } from "./store";
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
  add(conversationId: string, body: string, replyTo?: number): string {
    const clientMessageId = this.deps.newId();
    this.deps.store.update(
      changeList(conversationId, (l) => addPending(l, { clientMessageId, body, replyTo, now: this.deps.now() })),
    );
    this.transmit(conversationId, clientMessageId);
    return clientMessageId;
  }

  /** Queues a change to the conversation (shown at once) and transmits it; returns its clientMessageId. */
  change(frame: ChangeInput): string {
    const clientMessageId = this.deps.newId();
    const full = { ...frame, clientMessageId } as ChangeFrame;
    this.deps.store.update(
      changeList(frame.conversationId, (l) => addChange(l, { frame: full, now: this.deps.now() })),
    );
    this.transmit(frame.conversationId, clientMessageId);
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
      for (const c of list.changes) if (c.status === "pending") this.transmit(conversationId, c.clientMessageId);
    }
  }

  /** `accepted`: the gateway has the message durably. */
  accepted(conversationId: string, clientMessageId: string): void {
    this.clearAcceptTimer(conversationId, clientMessageId);
    this.deps.store.update(changeList(conversationId, (l) => markAccepted(l, clientMessageId)));
  }

  /**
   * An error frame that names a send or a change: a send fails with the server's reason (the user may retry it),
   * a change no longer shows and its refusal is the conversation's notice. False: it named neither.
   */
  rejected(conversationId: string, clientMessageId: string, code: string, message: string): boolean {
    const list = this.deps.store.getState().messages[conversationId];
    const change = list?.changes.find((c) => c.clientMessageId === clientMessageId);
    const send = list?.pending.find((p) => p.clientMessageId === clientMessageId);
    if (!change && !send) return false;
    this.clearAcceptTimer(conversationId, clientMessageId);
    if (change) {
      this.deps.store.update(changeList(conversationId, (l) => dropChange(l, clientMessageId)));
      this.deps.store.update(noticeIn(conversationId, errorText(code, message, change.frame.type)));
    } else {
      this.deps.store.update(changeList(conversationId, (l) => markFailed(l, clientMessageId, message || code)));
    }
    return true;
  }

  /** Stored copies arrived (the message list replaces their pending entries): no answer is owed any more. */
  stored(conversationId: string, messages: readonly StoredEntry[]): void {
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
    const c = p ? undefined : list?.changes.find((x) => x.clientMessageId === clientMessageId);
    if ((p ?? c)?.status !== "pending") return;
    const frame: ClientFrame = p
      ? {
          type: "send",
          conversationId,
          clientMessageId,
          body: p.body,
          ...(p.replyTo === undefined ? {} : { replyTo: p.replyTo }),
        }
      : c!.frame;
    if (!this.deps.send(frame)) return; // stays pending; flush() sends it once live
    this.clearAcceptTimer(conversationId, clientMessageId);
    const key = timerKey(conversationId, clientMessageId);
    this.acceptTimers.set(
      key,
      timers.setTimeout(() => {
        this.acceptTimers.delete(key);
        // Only while connected: after a drop the send is retried automatically on reconnect instead.
        const status = store.getState().connection.status;
        if (status !== "live" && status !== "syncing") return;
        if (c) {
          store.update(changeList(conversationId, (l) => dropChange(l, clientMessageId)));
          store.update(noticeIn(conversationId, errorText("UNAVAILABLE", "no answer from the server", c.frame.type)));
        } else {
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

/** Omit over each member of a union (Omit on the union itself would merge its members). */
export type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A change as the caller makes it: the outbox gives it its clientMessageId. */
export type ChangeInput = DistributiveOmit<ChangeFrame, "clientMessageId">;

function timerKey(conversationId: string, clientMessageId: string): string {
  return `${conversationId}|${clientMessageId}`;
}
