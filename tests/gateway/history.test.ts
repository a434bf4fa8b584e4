/**
 * historyPages, the one paging walk behind the gateway's gap fills, catch-up and sync: which reads it makes
 * against a fake messages table, and where it stops.
 */
import type { StoredMessage } from "../../runtime/contracts";
import { historyPages, type HistoryRange, type HistoryReads } from "../../runtime/gateway/delivery/history";
import { MAX_PAGE } from "../../runtime/contracts/api";
import { READ_PAGE_MAX } from "../../runtime/store/messages";

const conv = "g:abcdefgh12";

/** A messages table holding `seqs`; records the range and limit of every Query. */
function table(seqs: number[]) {
  const queries: { after?: number; before?: number; limit: number; consistent: boolean }[] = [];
  const ddb = {
    send: async (cmd: { input: Record<string, unknown> }) => {
      const values = cmd.input.ExpressionAttributeValues as Record<string, number>;
      const after = values[":after"];
      const before = values[":before"];
      const limit = cmd.input.Limit as number;
      queries.push({ after, before, limit: limit - 1, consistent: cmd.input.ConsistentRead === true });
      let items = seqs.filter((s) => (after === undefined || s > after) && (before === undefined || s < before));
      if (cmd.input.ScanIndexForward === false) items = items.reverse();
      return { Items: items.slice(0, limit).map((seq) => ({ conversationId: conv, seq }) as StoredMessage) };
    },
  };
  return { db: { ddb: ddb as never, tables: { messages: "t-messages" } as never }, queries };
}

async function walk(seqs: number[], range: HistoryRange, reads?: HistoryReads) {
  const { db, queries } = table(seqs);
  const pages: number[][] = [];
  for await (const page of historyPages(db, conv, range, reads)) pages.push(page.map((m) => m.seq));
  return { pages, queries };
}

const upTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe("historyPages", () => {
  it("walks forward page after page until the last one", async () => {
    const { pages, queries } = await walk(upTo(MAX_PAGE + 5), { after: 0 });
    expect(pages.map((p) => [p[0], p.at(-1)])).toEqual([
      [1, MAX_PAGE],
      [MAX_PAGE + 1, MAX_PAGE + 5],
    ]);
    expect(queries.map((q) => q.after)).toEqual([0, MAX_PAGE]);
    expect(queries.every((q) => !q.consistent)).toBe(true);
  });

  it("with upTo, reads no further than it and ends there", async () => {
    const { pages, queries } = await walk(upTo(20), { after: 2, upTo: 5 }, { consistent: true });
    expect(pages).toEqual([[3, 4, 5]]);
    expect(queries).toEqual([{ after: 2, before: undefined, limit: 3, consistent: true }]);
  });

  it("walks back from before, each page in seq order, for at most maxPages reads", async () => {
    const { pages, queries } = await walk(upTo(3 * MAX_PAGE), { before: 3 * MAX_PAGE + 1 }, { maxPages: 2 });
    expect(pages.map((p) => [p[0], p.at(-1)])).toEqual([
      [2 * MAX_PAGE + 1, 3 * MAX_PAGE],
      [MAX_PAGE + 1, 2 * MAX_PAGE],
    ]);
    expect(queries.map((q) => q.before)).toEqual([3 * MAX_PAGE + 1, 2 * MAX_PAGE + 1]);
  });

  it("asks `stopped` before each read, and reads nothing more once the caller breaks out", async () => {
    let closed = false;
    const { db, queries } = table(upTo(3 * MAX_PAGE));
    for await (const page of historyPages(db, conv, { after: 0 }, { stopped: () => closed })) {
      expect(page).toHaveLength(MAX_PAGE);
      closed = true;
    }
    expect(queries).toHaveLength(1);
    for await (const _page of historyPages(db, conv, { after: 0 })) break;
    expect(queries).toHaveLength(2);
  });

  it("reads pages of `pageSize` (sync: 1,000 missed messages in one read), at most READ_PAGE_MAX", async () => {
    const { pages, queries } = await walk(upTo(1_000), { after: 0 }, { pageSize: READ_PAGE_MAX });
    expect(pages.map((p) => p.length)).toEqual([1_000]);
    expect(queries.map((q) => q.limit)).toEqual([READ_PAGE_MAX]);
    const big = await walk(upTo(10), { after: 0 }, { pageSize: 5 * READ_PAGE_MAX });
    expect(big.queries.map((q) => q.limit)).toEqual([READ_PAGE_MAX]);
  });

  it("ends on an empty page", async () => {
    const { pages, queries } = await walk([], { after: 7 });
    expect(pages).toEqual([[]]);
    expect(queries).toHaveLength(1);
  });
});
