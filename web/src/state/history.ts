/**
 * History over HTTP: the latest page when a chat is opened, one older page at a time for infinite scroll, and the
 * pages that fill a hole between the messages shown and a newer one that arrived live.
 */
import { ApiError, type Api, type HistoryPage } from "./api";
import { noteStored } from "./chatList";
import { firstSeqOf, lastSeqOf, mergeHistoryPage, type MessageList, type StoredEntry } from "./messageList";
import { changeList, type ChatStore } from "./store";

/** Gap pages, and the pages back to the first unread, are read in larger steps: they are shown all at once. */
const GAP_PAGE_SIZE = 100;
/** How far back opening a chat reads to reach its first unread message: at most this many GAP_PAGE_SIZE pages. */
export const UNREAD_PAGES = 5;
/**
 * A failed older page is asked for again after these pauses: the reader is at the top of the list, where no
 * further scroll event comes to try again (the "Load older messages" button remains).
 */
export const OLDER_RETRY_MS = [500, 2_000, 5_000] as const;

/** No answer, too many requests, or the server unavailable: worth asking again. */
const retryable = (err: unknown) =>
  !(err instanceof ApiError) || err.status === 0 || err.status === 429 || err.status >= 500;

export interface MessageHistoryDeps {
  store: ChatStore;
  api: Pick<Api, "messages">;
  pageSize: number;
  /** Entries a gap fill found: they take the same path as live pushes. */
  onGapPage: (conversationId: string, messages: StoredEntry[]) => void;
  /** The members' persisted read positions a page carried. */
  onReadPositions: (conversationId: string, positions: Readonly<Record<string, number>>) => void;
  onError: (err: unknown) => void;
  /** Waits before a retry (tests pass one that does not). */
  sleep?: (ms: number) => Promise<void>;
}

export class MessageHistory {
  private readonly gapFills = new Set<string>();

  constructor(private readonly deps: MessageHistoryDeps) {}

  /** An opened chat shows its latest page, fetched once (live pushes alone do not count). */
  loadLatestOnce(conversationId: string): void {
    if (!this.deps.store.getState().messages[conversationId]?.historyLoaded) void this.loadLatest(conversationId);
  }

  /** Infinite scroll upward: one page before the oldest message shown. */
  async loadOlder(conversationId: string): Promise<void> {
    const state = this.deps.store.getState();
    const list = state.messages[conversationId];
    const before = list && firstSeqOf(list);
    if (!list?.hasMoreBefore || before === undefined || state.loadingOlder[conversationId]) return;
    this.setLoadingOlder(conversationId, true);
    const sleep = this.deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          const page = await this.deps.api.messages(conversationId, { before, limit: this.deps.pageSize });
          this.applyPage(conversationId, page);
          return;
        } catch (err) {
          const pause = OLDER_RETRY_MS[attempt];
          if (pause === undefined || !retryable(err)) {
            this.deps.onError(err);
            return;
          }
          await sleep(pause);
        }
      }
    } finally {
      this.setLoadingOlder(conversationId, false);
    }
  }

  /** Live messages arrived: if they start past what the loaded list ends with, fetch the hole rather than show it. */
  fillGapBefore(conversationId: string, before: MessageList | undefined, arrived: readonly StoredEntry[]): void {
    const beforeLast = before ? lastSeqOf(before) : 0;
    const first = Math.min(...arrived.map((m) => m.seq));
    if (before?.historyLoaded && beforeLast > 0 && first > beforeLast + 1)
      void this.fillGap(conversationId, beforeLast);
  }

  /**
   * The latest page, and — when the chat opened with more unread than that page holds — older pages back to the
   * first unread message (bounded by UNREAD_PAGES), applied together so that the view opens at the divider.
   */
  private async loadLatest(conversationId: string): Promise<void> {
    try {
      const latest = await this.deps.api.messages(conversationId, { limit: this.deps.pageSize });
      const divider = this.deps.store.getState().unreadDivider;
      const readUpTo = divider?.conversationId === conversationId ? divider.afterSeq : null;
      const page: HistoryPage = { messages: latest.messages, hasMore: latest.hasMore };
      if (latest.readPositions) page.readPositions = latest.readPositions;
      for (let i = 0; readUpTo !== null && page.hasMore && i < UNREAD_PAGES; i++) {
        const before = page.messages[0]?.seq;
        if (before === undefined || before <= readUpTo + 1) break;
        const older = await this.deps.api.messages(conversationId, { before, limit: GAP_PAGE_SIZE });
        page.messages = [...older.messages, ...page.messages];
        page.hasMore = older.hasMore;
      }
      this.applyPage(conversationId, page);
      this.deps.store.update(noteStored(conversationId, page.messages, this.deps.store.getState().me.userId));
    } catch (err) {
      this.deps.onError(err);
    }
  }

  private async fillGap(conversationId: string, afterSeq: number): Promise<void> {
    if (this.gapFills.has(conversationId)) return;
    this.gapFills.add(conversationId);
    try {
      let after = afterSeq;
      for (;;) {
        const page = await this.deps.api.messages(conversationId, { after, limit: GAP_PAGE_SIZE });
        this.deps.onGapPage(conversationId, page.messages);
        if (page.readPositions) this.deps.onReadPositions(conversationId, page.readPositions);
        if (!page.hasMore || page.messages.length === 0) break;
        after = Math.max(...page.messages.map((m) => m.seq));
      }
    } catch (err) {
      this.deps.onError(err);
    } finally {
      this.gapFills.delete(conversationId);
    }
  }

  private applyPage(conversationId: string, page: HistoryPage): void {
    const me = this.deps.store.getState().me.userId;
    this.deps.store.update(changeList(conversationId, (l) => mergeHistoryPage(l, page.messages, page.hasMore, me)));
    if (page.readPositions) this.deps.onReadPositions(conversationId, page.readPositions);
  }

  private setLoadingOlder(conversationId: string, value: boolean): void {
    this.deps.store.update((s) => ({ ...s, loadingOlder: { ...s.loadingOlder, [conversationId]: value } }));
  }
}
