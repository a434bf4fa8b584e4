/** The WebSocket connections this gateway holds, by connection and by user. */

export interface MessageRef {
  readonly conversationId: string;
  readonly seq: number;
}

export interface LocalSession {
  readonly connectionId: string;
  readonly userId: string;
  readonly connectedAt: number;
  /** Queues an already-serialized ephemeral frame (typing, read, presence). */
  push(text: string): void;
  /** Queues a serialized `message` frame; the session keeps per-conversation order and drops repeats. */
  pushMessage(ref: MessageRef, text: string): void;
  close(code: number, reason: string): void;
}

/** `S` is what the table holds: the server's table holds full sessions, so it needs no cast to heartbeat them. */
export class LocalSessions<S extends LocalSession = LocalSession> {
  private readonly byId = new Map<string, S>();
  private readonly byUserId = new Map<string, Set<S>>();
  private readonly userLocks = new Map<string, Promise<void>>();

  /**
   * Runs `fn` after every earlier call for the same user has finished: connection-cap check and record put are
   * one step per user on this gateway, so simultaneous connects cannot all pass the check.
   */
  async withUserLock<T>(userId: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.userLocks.get(userId) ?? Promise.resolve();
    let release!: () => void;
    const current = new Promise<void>((r) => (release = r));
    const tail = previous.then(() => current);
    this.userLocks.set(userId, tail);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      if (this.userLocks.get(userId) === tail) this.userLocks.delete(userId);
    }
  }

  add(s: S): void {
    this.byId.set(s.connectionId, s);
    let set = this.byUserId.get(s.userId);
    if (!set) this.byUserId.set(s.userId, (set = new Set()));
    set.add(s);
  }

  /** Returns false when it was already gone (close handlers may race). */
  remove(s: S): boolean {
    if (this.byId.get(s.connectionId) !== s) return false;
    this.byId.delete(s.connectionId);
    const set = this.byUserId.get(s.userId);
    set?.delete(s);
    if (set?.size === 0) this.byUserId.delete(s.userId);
    return true;
  }

  get(connectionId: string): S | undefined {
    return this.byId.get(connectionId);
  }

  ofUser(userId: string): ReadonlySet<S> {
    return this.byUserId.get(userId) ?? new Set();
  }

  all(): S[] {
    return [...this.byId.values()];
  }

  get size(): number {
    return this.byId.size;
  }
}
