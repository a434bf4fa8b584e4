/**
 * A conversation of 1,000 messages in Chromium (issue 17, "1,000 messages scroll smoothly"): the time to open
 * it with every message in the store, the frame times while scrolling it end to end (requestAnimationFrame
 * deltas in the page) and while typing under it. The messages are written straight to the tables, as the
 * persister would store them. The bounds are loose (a shared 2-core machine); the figures are printed, and
 * docs/web-client.md keeps them.
 */
import type { Browser, Page } from "playwright-core";
import { createDynamoClient } from "../../runtime/aws/clients";
import { tableNamesFor, type StoredMessage } from "../../runtime/contracts";
import { LOCAL_PREFIX, startLocalStack, type LocalStack } from "../../runtime/local/stack";
import { webDistDir as distDir } from "../../runtime/local/web-build";
import { recordSummary } from "../../runtime/store/conversations";
import { advanceLastRead } from "../../runtime/store/memberships";
import { putMessageIfSlotFree } from "../../runtime/store/messages";
import { timing } from "../support/timing";
import {
  launchChromium,
  openUser,
  readUntil,
  signUp,
  startDirectChat,
  type User,
  ensureWebBuild,
} from "./support/browser";

// Budgets are for both cores busy: in `npm test` a bench suite can share the machine with this one.
jest.setTimeout(timing.ms(600_000));

const COUNT = 1_000;
const CHAT = "d:alice:bob";

/** p50, p95 and max of frame deltas, in ms, and how many frames took over 50 ms. */
function summary(deltas: number[]): { frames: number; p50: number; p95: number; max: number; over50: number } {
  const s = [...deltas].sort((a, b) => a - b);
  const at = (q: number) => Math.round(s[Math.min(s.length - 1, Math.floor(q * s.length))]! * 10) / 10;
  const over50 = s.filter((d) => d > 50).length;
  return { frames: s.length, p50: at(0.5), p95: at(0.95), max: Math.round(s.at(-1)! * 10) / 10, over50 };
}

/** Frame deltas while the log is scrolled from the bottom to the first message, `step` px a frame. */
const scrollFrames = (page: Page, step: number) =>
  page.evaluate(
    (px) =>
      new Promise<number[]>((resolve) => {
        const log = document.querySelector<HTMLElement>('[role="log"]')!;
        log.scrollTop = log.scrollHeight;
        const deltas: number[] = [];
        let last = performance.now();
        const frame = (now: number) => {
          deltas.push(now - last);
          last = now;
          // The top of the whole conversation, not of the rendered window (which grows as it is reached).
          const top = log.querySelector("[data-seq]")?.getAttribute("data-seq") === "1" && log.scrollTop <= 0;
          if (top || deltas.length > 5_000) return resolve(deltas.slice(1));
          log.scrollTop -= px;
          requestAnimationFrame(frame);
        };
        requestAnimationFrame(frame);
      }),
    step,
  );

/** Frame deltas recorded until `stop` is called in the page. */
const startFrameRecorder = (page: Page) =>
  page.evaluate(() => {
    const w = window as unknown as { __frames: number[]; __recording: boolean };
    w.__frames = [];
    w.__recording = true;
    let last = performance.now();
    const frame = (now: number) => {
      w.__frames.push(now - last);
      last = now;
      if (w.__recording) requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
  });
const stopFrameRecorder = (page: Page) =>
  page.evaluate(() => {
    const w = window as unknown as { __frames: number[]; __recording: boolean };
    w.__recording = false;
    return w.__frames.slice(1);
  });

describe("a conversation of 1,000 messages", () => {
  let stack: LocalStack | undefined;
  let browser: Browser | undefined;
  let alice: User;
  let bob: User;

  beforeAll(async () => {
    ensureWebBuild();
    browser = await launchChromium();
    stack = await startLocalStack({ gateways: 1, inMemory: true, webDir: distDir });
    const url = stack.gateways[0]!.url;
    alice = await openUser(browser, url, { width: 1440, height: 900 });
    await signUp(alice.page, "alice", "Alice");
    bob = await openUser(browser, url, { width: 1440, height: 900 });
    await signUp(bob.page, "bob", "Bob");
    await startDirectChat(alice.page, "bo", "Bob");

    // As the persister stores them: alternating runs by each sender, one to three lines each.
    const db = { ddb: createDynamoClient(stack.aws), tables: tableNamesFor(LOCAL_PREFIX) };
    const start = Date.now() - COUNT * 60_000;
    const message = (seq: number): StoredMessage => ({
      conversationId: CHAT,
      seq,
      senderId: Math.floor(seq / 3) % 2 ? "alice" : "bob",
      clientMessageId: `m${seq}`,
      body: `Message ${seq}: ${"lorem ipsum dolor sit amet ".repeat(1 + (seq % 7))}`.trim(),
      sentAt: start + seq * 60_000,
      storedAt: start + seq * 60_000,
    });
    for (let seq = 1; seq <= COUNT; seq += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, i) => putMessageIfSlotFree(db, message(seq + i))));
    }
    await recordSummary(db, { conversationId: message(COUNT).conversationId, lastSeq: COUNT, message: message(COUNT) });
    await advanceLastRead(db, "alice", CHAT, COUNT);
    // Bob has read up to 700: 300 unread, more than the first page of 50.
    await advanceLastRead(db, "bob", CHAT, 700);
    await alice.page.reload();
    await bob.page.reload();
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it("loads every page by scrolling up, and reopens with a window of rows, not all 1,000 (frame times logged)", async () => {
    const { page } = alice;
    const count = () => page.getByTestId("message").count();
    // Scrolling to the top loads the next older page, until there is none.
    const loadStart = Date.now();
    await readUntil(
      "all 1,000 loaded",
      async () => {
        await page.getByRole("log").evaluate((l) => (l.scrollTop = 0));
        return page.evaluate(() => Number(document.querySelector("[data-seq]")?.getAttribute("data-seq")));
      },
      (first) => first === 1,
      timing.ms(400_000),
    );
    const loadAll = Date.now() - loadStart;

    // Reopen: the list is in the store, so this is the time to render 1,000 messages and paint.
    await page.getByRole("button", { name: "Back to chats" }).click();
    const open = await page.evaluate(
      () =>
        new Promise<number>((resolve) => {
          const t0 = performance.now();
          document.querySelector<HTMLElement>('[data-testid="chat-item"]')!.click();
          const check = () =>
            document.querySelector('[data-seq="1000"]')
              ? requestAnimationFrame(() => resolve(performance.now() - t0))
              : requestAnimationFrame(check);
          check();
        }),
    );
    const rendered = await count();
    const scroll = summary(await scrollFrames(page, 150));

    await startFrameRecorder(page);
    await page.getByRole("textbox", { name: "Message", exact: true }).pressSequentially("typing under a long chat", {
      delay: 20,
    });
    const typing = summary(await stopFrameRecorder(page));

    const renderedAtTop = await count();
    const figures = { loadAllMs: loadAll, openMs: Math.round(open), rendered, renderedAtTop, scroll, typing };
    console.log(`1,000 messages: ${JSON.stringify(figures)}`);
    expect(renderedAtTop).toBe(COUNT);
    // What the window guarantees, whatever the machine's load: reopening renders a window, not all 1,000 rows.
    // The frame times and the open time above are figures for docs/web-client.md, not assertions (timing
    // belongs in the benchmark; in `npm test` another suite may hold both cores).
    expect(rendered).toBeLessThanOrEqual(250);
    expect(alice.errors).toEqual([]);
  });

  it("opens at the real first unread when there are more unread than the first page holds", async () => {
    const { page } = bob;
    await page.getByTestId("chat-item").click();
    const divider = page.getByTestId("unread-divider");
    await divider.waitFor();
    // seq 701 is Alice's: the first message after Bob's read position.
    expect(await divider.evaluate((d) => d.nextElementSibling?.getAttribute("data-seq"))).toBe("701");
    const [dividerTop, logTop] = await Promise.all([
      divider.evaluate((d) => d.getBoundingClientRect().top),
      page.getByRole("log").evaluate((l) => l.getBoundingClientRect().top),
    ]);
    expect(dividerTop - logTop).toBeGreaterThanOrEqual(0);
    expect(dividerTop - logTop).toBeLessThan(60);
    expect(bob.errors).toEqual([]);
  });
});
