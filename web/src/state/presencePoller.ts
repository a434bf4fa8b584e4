/**
 * Who is online. Presence frames are pushed, but a missed one would leave a dot wrong forever, so the poller
 * also re-reads the presence of every chat member now and then — only while live and visible, when a wrong dot
 * would be seen.
 */
import type { Api, Presence } from "./api";
import type { ChatStore } from "./store";
import type { Timers } from "./timers";

const PRESENCE_REFRESH_MS = 30_000;
/** One request's worth of user ids (the endpoint's limit). */
const PRESENCE_BATCH = 100;

export interface PresencePollerDeps {
  store: ChatStore;
  api: Pick<Api, "presence">;
  timers: Timers;
  isVisible: () => boolean;
  /** A failed read; presence is never worth a notice, so only a refused token matters to the caller. */
  onError: (err: unknown) => void;
}

export class PresencePoller {
  private timer: unknown = null;

  constructor(private readonly deps: PresencePollerDeps) {}

  start(): void {
    this.timer = this.deps.timers.setInterval(() => {
      if (this.deps.store.getState().connection.status === "live" && this.deps.isVisible()) void this.load();
    }, PRESENCE_REFRESH_MS);
  }

  stop(): void {
    if (this.timer !== null) this.deps.timers.clearInterval(this.timer);
  }

  /** Reads the presence of everyone the user shares a chat with. */
  async load(): Promise<void> {
    const { me, conversations } = this.deps.store.getState();
    const others = new Set<string>();
    for (const c of Object.values(conversations)) for (const m of c.memberIds) if (m !== me.userId) others.add(m);
    if (others.size === 0) return;
    try {
      const list = await this.deps.api.presence([...others].slice(0, PRESENCE_BATCH));
      this.deps.store.update((s) => {
        const presence = { ...s.presence };
        for (const p of list) presence[p.userId] = p;
        return { ...s, presence };
      });
    } catch (err) {
      this.deps.onError(err);
    }
  }

  /** A pushed `presence` frame. */
  received(p: Presence): void {
    this.deps.store.update((s) => ({ ...s, presence: { ...s.presence, [p.userId]: p } }));
  }
}
