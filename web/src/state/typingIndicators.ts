/**
 * Typing indicators over the socket: the user's own keystrokes go out throttled (with one trailing frame owed
 * for a keystroke inside the window), and other members' `typing` frames show until they expire. The throttle
 * and the expiry rule are the pure parts in typing.ts.
 */
import type { SendFrame } from "./connection";
import type { NameLookup } from "./names";
import type { ChatStore, StateChange } from "./store";
import type { Timers } from "./timers";
import { TYPING_SHOW_MS, TypingThrottle, type TypingMap } from "./typing";

/** Margin: the gateway measures the interval on arrival, and frames do not arrive evenly spaced. */
const TYPING_ARRIVAL_MARGIN_MS = 250;
/** The sweep runs just after the earliest indicator expires, so it is gone when it runs. */
const SWEEP_LATE_MS = 50;

export interface TypingIndicatorsDeps {
  store: ChatStore;
  /** Sends a frame if the socket can take it (a typing frame that cannot go out is simply dropped). */
  send: SendFrame;
  /** Looks up the display name of a member seen typing. */
  names: NameLookup;
  timers: Timers;
  now: () => number;
}

/** Ends the "typing…" of `userIds` in one chat: their message arrived. */
export function clearTypers(conversationId: string, userIds: ReadonlySet<string>): StateChange {
  return (s) => {
    const t = s.typing[conversationId];
    if (!t || ![...userIds].some((u) => t[u] !== undefined)) return s;
    const next = { ...t };
    for (const u of userIds) delete next[u];
    return { ...s, typing: { ...s.typing, [conversationId]: next } };
  };
}

export class TypingIndicators {
  private readonly throttle = new TypingThrottle();
  private readonly trailing = new Map<string, unknown>();
  private sweepTimer: unknown = null;

  constructor(private readonly deps: TypingIndicatorsDeps) {}

  /** Called on every keystroke (`active`), and with false when the draft is sent or emptied. */
  notify(conversationId: string, active = true): void {
    const { timers, now } = this.deps;
    const trailing = this.trailing.get(conversationId);
    if (trailing !== undefined) timers.clearTimeout(trailing);
    this.trailing.delete(conversationId);
    if (!active) return;
    const at = now();
    if (this.throttle.shouldSend(conversationId, at)) {
      this.deps.send({ type: "typing", conversationId });
      return;
    }
    const wait = this.throttle.waitMs(conversationId, at) + TYPING_ARRIVAL_MARGIN_MS;
    this.trailing.set(
      conversationId,
      timers.setTimeout(() => {
        this.trailing.delete(conversationId);
        if (this.throttle.shouldSend(conversationId, now())) this.deps.send({ type: "typing", conversationId });
      }, wait),
    );
  }

  /** Another member is typing (our own frames, echoed from another tab, are ignored). */
  received(conversationId: string, userId: string): void {
    const { store } = this.deps;
    if (userId === store.getState().me.userId) return;
    const until = this.deps.now() + TYPING_SHOW_MS;
    store.update((s) => ({
      ...s,
      typing: { ...s.typing, [conversationId]: { ...s.typing[conversationId], [userId]: until } },
    }));
    this.deps.names.resolve([userId]);
    if (this.sweepTimer === null) this.scheduleSweep(TYPING_SHOW_MS);
  }

  stop(): void {
    const { timers } = this.deps;
    if (this.sweepTimer !== null) timers.clearTimeout(this.sweepTimer);
    for (const t of this.trailing.values()) timers.clearTimeout(t);
    this.trailing.clear();
  }

  private scheduleSweep(ms: number): void {
    const { timers } = this.deps;
    if (this.sweepTimer !== null) timers.clearTimeout(this.sweepTimer);
    this.sweepTimer = timers.setTimeout(() => {
      this.sweepTimer = null;
      this.sweep();
    }, ms + SWEEP_LATE_MS);
  }

  /** Drops expired indicators and schedules the next sweep for the earliest one left. */
  private sweep(): void {
    const now = this.deps.now();
    let next = Infinity;
    this.deps.store.update((s) => {
      let changed = false;
      const typing: Record<string, TypingMap> = {};
      for (const [cid, users] of Object.entries(s.typing)) {
        const kept: Record<string, number> = {};
        for (const [uid, until] of Object.entries(users)) {
          if (until > now) {
            kept[uid] = until;
            next = Math.min(next, until);
          } else changed = true;
        }
        typing[cid] = kept;
      }
      return changed ? { ...s, typing } : s;
    });
    if (next !== Infinity) this.scheduleSweep(next - now);
  }
}
