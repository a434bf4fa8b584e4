/** Typing indicators are ephemeral: throttled on the way out, expired on the way in. */

export const TYPING_SEND_INTERVAL_MS = 2000;
export const TYPING_SHOW_MS = 4000;

/**
 * At most one `typing` frame per interval per conversation while the user keeps typing. The gateway drops frames
 * closer than that, so the client never sends them: a keystroke inside the window is owed a trailing frame
 * when the window ends instead (`waitMs`).
 */
export class TypingThrottle {
  private readonly lastSent = new Map<string, number>();

  constructor(private readonly intervalMs = TYPING_SEND_INTERVAL_MS) {}

  shouldSend(conversationId: string, now: number): boolean {
    if (this.waitMs(conversationId, now) > 0) return false;
    this.lastSent.set(conversationId, now);
    return true;
  }

  /** How long until a frame may go out again (0: now). */
  waitMs(conversationId: string, now: number): number {
    const last = this.lastSent.get(conversationId);
    return last === undefined ? 0 : Math.max(0, last + this.intervalMs - now);
  }
}

/** userId → epoch ms until which "is typing…" shows. */
export type TypingMap = Readonly<Record<string, number>>;

export function activeTypers(typing: TypingMap | undefined, now: number): string[] {
  if (!typing) return [];
  return Object.entries(typing)
    .filter(([, until]) => until > now)
    .map(([userId]) => userId)
    .sort();
}

export function typingLabel(names: readonly string[]): string {
  if (names.length === 0) return "";
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  return `${names.length} people are typing…`;
}
