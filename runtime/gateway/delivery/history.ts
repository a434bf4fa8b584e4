/**
 * The one way the gateway reads a conversation's stored messages page after page — gap fills, the messages
 * stored since a socket opened, the catch-up after the directory TTL and sync all walk the table through
 * historyPages, and differ only in what they do with a page and when they stop.
 */
import type { StoredEntry } from "../../contracts";
import type { Db } from "../../store/db";
import { MAX_PAGE } from "../../contracts/api";
import { pageMessages } from "../../store/messages";

export type HistoryRange =
  /** Pages going forward from `after`; with `upTo`, no read asks for seqs beyond it and the walk ends there. */
  | { readonly after: number; readonly upTo?: number }
  /** Pages going back from `before` (each page still in seq order). */
  | { readonly before: number };

export interface HistoryReads {
  /** Strongly consistent reads (the persister may have stored the message a moment ago). */
  readonly consistent?: boolean;
  /** At most this many reads. */
  readonly maxPages?: number;
  /** Messages per read (default MAX_PAGE, the HTTP API's page; at most READ_PAGE_MAX). */
  readonly pageSize?: number;
  /** Asked before each read: true ends the walk (the socket closed). */
  readonly stopped?: () => boolean;
}

/**
 * The pages of `conversationId` in `range`, read one at a time as the caller asks for the next (breaking out of
 * the loop reads no more). Ends after the last page or an empty one.
 */
export async function* historyPages(
  db: Db<"messages">,
  conversationId: string,
  range: HistoryRange,
  reads: HistoryReads = {},
): AsyncGenerator<StoredEntry[]> {
  const forward = "after" in range;
  const upTo = "after" in range ? range.upTo : undefined;
  let cursor = "after" in range ? range.after : range.before;
  for (let pages = 0; pages < (reads.maxPages ?? Infinity); pages++) {
    if (reads.stopped?.() || (upTo !== undefined && cursor >= upTo)) return;
    const size = reads.pageSize ?? MAX_PAGE;
    const limit = upTo === undefined ? size : Math.min(size, upTo - cursor);
    const page = await pageMessages(
      db,
      conversationId,
      forward
        ? { after: cursor, limit, consistent: reads.consistent }
        : { before: cursor, limit, consistent: reads.consistent },
    );
    yield page.messages;
    if (!page.hasMore || page.messages.length === 0) return;
    cursor = forward ? page.messages.at(-1)!.seq : page.messages[0]!.seq;
  }
}
