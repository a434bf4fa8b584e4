/**
 * What people expect of a chat app (issue 17), each row checked in Debian's Chromium against the real local
 * stack: grouped messages with day separators, the unread divider and jump-to-latest, the title badge and
 * hidden-tab notifications, safe links and right-to-left text, dark mode, the composer's limit, long names at
 * phone width, the chat in the URL, keyboard and contrast details, sign-up limits and the bundle budget.
 * Screenshots of the main views at 390×844 and 1440×900, light and dark, land in test-results/web-<view>-….
 */
import { mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import type { Browser, Page } from "playwright-core";
import { startLocalStack, type LocalStack } from "../../runtime/local/stack";
import { webDistDir as distDir } from "../../runtime/local/web-build";
import {
  bodies,
  launchChromium,
  openUser,
  readUntil,
  send,
  signUp,
  startDirectChat,
  type User,
  ensureWebBuild,
} from "./support/browser";
import {
  backgroundBehind,
  contrastRatio,
  installFakeNotifications,
  seriousAxeViolations,
  type FakeNotificationsWindow,
} from "./support/page";

const repoRoot = path.resolve(__dirname, "../..");
const resultsDir = path.join(repoRoot, "test-results");
const DESKTOP = { width: 1440, height: 900 };
const PHONE = { width: 390, height: 844 };
const LONG_NAME = "Wolfeschlegelsteinhausenbergerdorff".padEnd(64, "W"); // 64 characters, no space to wrap at

jest.setTimeout(240_000);

const box = (page: Page) => page.getByRole("textbox", { name: "Message", exact: true });
const titleIs = (page: Page, title: string) =>
  readUntil(
    `title ${title}`,
    () => page.title(),
    (t) => t === title,
  );
const scrollWidth = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth);

/** Every size and theme of one view, and no sideways scroll in any of them. */
async function shoot(page: Page, view: string): Promise<void> {
  const viewport = page.viewportSize();
  const theme = await page.evaluate(() => document.documentElement.dataset.theme);
  for (const t of ["light", "dark"]) {
    for (const size of [PHONE, DESKTOP]) {
      await page.setViewportSize(size);
      await page.evaluate((x) => (document.documentElement.dataset.theme = x), t);
      await page.screenshot({ path: path.join(resultsDir, `web-${view}-${t}-${size.width}x${size.height}.png`) });
      expect({ view, t, size, scrollWidth: await scrollWidth(page) }).toEqual({
        view,
        t,
        size,
        scrollWidth: size.width,
      });
    }
  }
  if (viewport) await page.setViewportSize(viewport);
  await page.evaluate((x) => (document.documentElement.dataset.theme = x), theme);
}

describe("web client: what people expect (issue 17)", () => {
  let stack: LocalStack | undefined;
  let browser: Browser | undefined;
  let url = "";
  let alice: User;
  let bob: User;
  let carol: User;
  const CHAT = "d:alice:bob";

  beforeAll(async () => {
    ensureWebBuild();
    mkdirSync(resultsDir, { recursive: true });
    browser = await launchChromium();
    stack = await startLocalStack({ gateways: 1, inMemory: true, webDir: distDir });
    url = stack.gateways[0]!.url;
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it("sign-up refuses over-long input with a visible message instead of cutting it (row 10)", async () => {
    alice = await openUser(browser!, url, DESKTOP);
    const { page } = alice;
    await page.getByRole("heading", { name: "Log in" }).waitFor();
    await shoot(page, "login");
    await page.getByRole("button", { name: /create an account/i }).click();
    const long = "a".repeat(200);
    await page.getByLabel("Username").fill(long);
    await page.getByLabel(/Display name/).fill("d".repeat(65));
    expect(await page.getByLabel("Username").inputValue()).toBe(long); // not silently cut to 32
    expect(await page.getByTestId("username-problem").textContent()).toBe(
      "Too long: at most 32 characters (this is 200).",
    );
    expect(await page.getByTestId("displayName-problem").textContent()).toMatch(/at most 64 characters/);
    expect(await page.getByRole("button", { name: "Sign up" }).isDisabled()).toBe(true);
    await page.getByRole("button", { name: /already have an account/i }).click();

    await signUp(page, "alice", "Alice");
    bob = await openUser(browser!, url, PHONE);
    await installFakeNotifications(bob.page);
    await signUp(bob.page, "bob", "Bob");
  });

  it("groups consecutive messages by sender with time on each and a day separator (row 1)", async () => {
    const { page } = alice;
    await startDirectChat(page, "bo", "Bob");
    for (const text of ["First", "Second", "Third"]) await send(page, text);
    await readUntil(
      "three delivered",
      () => page.getByTestId("message-status").allTextContents(),
      (s) => s.length === 3 && s.every((x) => x === "Delivered"),
    );
    expect(await page.getByTestId("day-separator").allTextContents()).toEqual(["Today"]);
    expect(await page.getByTestId("message-sender").allTextContents()).toEqual(["You"]);
    const times = await page
      .getByTestId("message")
      .evaluateAll((rows) => rows.map((r) => r.querySelectorAll("time[datetime]").length));
    expect(times).toEqual([1, 1, 1]);
  });

  it("shows the total unread in the title, opens at a 'new messages' divider, and offers a jump to latest (rows 2, 3)", async () => {
    const { page } = bob;
    const chat = page.getByTestId("chat-item").filter({ hasText: "Alice" });
    await chat.waitFor();
    await titleIs(page, "(3) Parley");
    await chat.click();
    await readUntil(
      "Bob reads the three",
      () => bodies(page),
      (b) => b.length === 3,
    );
    await titleIs(page, "Parley");
    await page.getByRole("button", { name: "Back to chats" }).click();

    const more = Array.from({ length: 24 }, (_, i) => `More news ${i + 1}\nsecond line`);
    for (const text of more) await send(alice.page, text);
    await titleIs(page, "(24) Parley");

    await chat.click();
    await readUntil(
      "Bob has all 27",
      () => bodies(page),
      (b) => b.length === 27,
    );
    const divider = page.getByTestId("unread-divider");
    expect(await divider.textContent()).toBe("New messages");
    // The divider sits right before the first unread message, and the view opened at it, not at the bottom.
    expect(
      await divider.evaluate((d) => d.nextElementSibling?.querySelector("[data-testid=message-body]")?.textContent),
    ).toBe("More news 1\nsecond line");
    const [dividerTop, logTop] = await Promise.all([
      divider.evaluate((d) => d.getBoundingClientRect().top),
      page.getByRole("log").evaluate((l) => l.getBoundingClientRect().top),
    ]);
    expect(dividerTop - logTop).toBeGreaterThanOrEqual(0);
    expect(dividerTop - logTop).toBeLessThan(60);
    expect(await page.getByTestId("jump-to-latest").textContent()).toBe("Jump to latest ↓");

    await send(alice.page, "One more");
    await readUntil(
      "Bob is told of the new message while scrolled up",
      () => page.getByTestId("jump-to-latest").textContent(),
      (t) => t === "1 new message ↓",
    );
    await page.getByTestId("jump-to-latest").click();
    await page.getByTestId("message-body").last().filter({ hasText: "One more" }).waitFor();
    expect(await page.getByTestId("jump-to-latest").count()).toBe(0);
    const atBottom = await page
      .getByRole("log")
      .evaluate((l) => Math.abs(l.scrollHeight - l.scrollTop - l.clientHeight) < 40);
    expect(atBottom).toBe(true);
    await shoot(page, "conversation");
  });

  it("asks for notification permission only on a click, and notifies while the tab is hidden (row 3)", async () => {
    const { page } = bob;
    const asked = () => page.evaluate(() => (window as unknown as FakeNotificationsWindow).__notifications.asked);
    expect(await asked()).toBe(0); // never on load
    await page.getByRole("button", { name: "Enable notifications" }).click();
    await readUntil("permission asked once", asked, (n) => n === 1);
    expect(await page.getByRole("button", { name: "Enable notifications" }).count()).toBe(0);

    await page.evaluate(() => (window as unknown as FakeNotificationsWindow).__notifications.hide());
    await send(alice.page, "Are you there?");
    const shown = await readUntil(
      "Bob is notified",
      () => page.evaluate(() => (window as unknown as FakeNotificationsWindow).__notifications.shown),
      (s) => s.length > 0,
    );
    expect(shown).toEqual([{ title: "Alice", body: "Are you there?", tag: CHAT }]);
    expect(await page.title()).toBe("(1) Parley"); // hidden: not read yet
    await page.evaluate(() => (window as unknown as FakeNotificationsWindow).__notifications.show());
    await titleIs(page, "Parley");
  });

  it("makes http(s) links clickable and safe, and lays out right-to-left text (row 4)", async () => {
    await send(alice.page, "Docs at https://example.org/guide. Not javascript:alert(1) nor ftp://x.org");
    await send(alice.page, "שלום, מה שלומך?");
    const { page } = bob;
    await readUntil(
      "Bob has both",
      () => bodies(page),
      (b) => b.at(-1) === "שלום, מה שלומך?",
    );
    const links = await page
      .getByTestId("message-body")
      .locator("a")
      .evaluateAll((as) =>
        as.map((a) => ({
          href: a.getAttribute("href"),
          text: a.textContent,
          rel: a.getAttribute("rel"),
          target: a.getAttribute("target"),
        })),
      );
    expect(links).toEqual([
      {
        href: "https://example.org/guide",
        text: "https://example.org/guide",
        rel: "noopener noreferrer",
        target: "_blank",
      },
    ]);
    const hebrew = page.getByTestId("message-body").last();
    expect(await hebrew.getAttribute("dir")).toBe("auto");
    expect(await hebrew.evaluate((p) => p.matches(":dir(rtl)"))).toBe(true);
    expect(await page.getByRole("heading", { name: "Alice" }).getAttribute("dir")).toBe("auto");
  });

  it("follows the system's dark mode, and the toggle overrides it across reloads (row 5)", async () => {
    const { page } = alice;
    const theme = () => page.evaluate(() => document.documentElement.dataset.theme);
    const background = () => page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
    await page.emulateMedia({ colorScheme: "light" });
    await readUntil("light", theme, (t) => t === "light");
    const light = await background();
    await page.emulateMedia({ colorScheme: "dark" });
    await readUntil("follows the system to dark", theme, (t) => t === "dark");
    expect(await background()).not.toBe(light);
    const toggle = page.getByRole("button", { name: "Dark mode" });
    expect(await toggle.getAttribute("aria-pressed")).toBe("true");
    await toggle.click();
    expect(await theme()).toBe("light");
    await page.reload();
    await page.getByRole("button", { name: "Dark mode" }).waitFor();
    expect(await theme()).toBe("light"); // the choice beats the (still dark) system
    expect(await page.getByRole("button", { name: "Dark mode" }).getAttribute("aria-pressed")).toBe("false");
  });

  it("counts characters near the limit and refuses a 70,000-character paste instead of cutting it (row 6)", async () => {
    const { page } = bob;
    const before = (await bodies(page)).length;
    await box(page).fill("x".repeat(3_600));
    expect(await page.getByTestId("char-counter").textContent()).toBe("3,600 / 4,000");
    expect(await page.getByTestId("composer-refusal").count()).toBe(0);
    await box(page).fill("y".repeat(70_000));
    expect((await box(page).inputValue()).length).toBe(70_000);
    expect(await page.getByRole("alert").filter({ hasText: "Too long to send" }).textContent()).toBe(
      "Too long to send: 70,000 characters, the limit is 4,000. Shorten it or split it into several messages.",
    );
    expect(await page.getByRole("button", { name: "Send" }).isDisabled()).toBe(true);
    await box(page).press("Enter");
    expect((await bodies(page)).length).toBe(before);
    expect((await box(page).inputValue()).length).toBe(70_000); // still there to shorten
    await box(page).fill("");
  });

  it("keeps a 64-character name inside a 390 px screen, ellipsized (row 7)", async () => {
    carol = await openUser(browser!, url, PHONE);
    await signUp(carol.page, "carol", LONG_NAME);
    const me = carol.page.getByTestId("me");
    expect(await me.isVisible()).toBe(true); // her own name, on a phone
    expect(await me.evaluate((e) => e.scrollWidth > e.clientWidth)).toBe(true);
    expect(await scrollWidth(carol.page)).toBe(PHONE.width);
    await startDirectChat(carol.page, "ali", "Alice");
    await send(carol.page, "Hello from a long name");

    await bob.page.getByRole("button", { name: "Back to chats" }).click(); // on a phone the list is its own view
    await startDirectChat(bob.page, "car", LONG_NAME);
    const heading = bob.page.getByRole("heading", { name: LONG_NAME });
    expect(await heading.evaluate((h) => getComputedStyle(h).textOverflow)).toBe("ellipsis");
    expect(await heading.evaluate((h) => h.scrollWidth > h.clientWidth)).toBe(true);
    expect(await scrollWidth(bob.page)).toBe(PHONE.width);
    await bob.page.getByRole("button", { name: "Back to chats" }).click();
    await bob.page.getByTestId("chat-item").filter({ hasText: LONG_NAME }).waitFor();
    expect(await scrollWidth(bob.page)).toBe(PHONE.width);
    await shoot(bob.page, "chat-list");
  });

  it("keeps the open chat in the URL: reload restores it, Back and Forward move between list and chat (row 8)", async () => {
    const { page } = bob;
    const pathname = () => page.evaluate(() => location.pathname);
    await page.getByTestId("chat-item").filter({ hasText: "Alice" }).click();
    await page.getByRole("heading", { name: "Alice" }).waitFor();
    expect(await pathname()).toBe(`/c/${CHAT}`);
    await page.reload();
    await page.getByRole("heading", { name: "Alice" }).waitFor();
    await readUntil(
      "history after reload",
      () => bodies(page),
      (b) => b.includes("One more"),
    );
    await page.goBack();
    await readUntil(
      "Back shows the list",
      () => page.locator(".app").getAttribute("data-view"),
      (v) => v === "list",
    );
    expect(await pathname()).toBe("/");
    await page.goForward();
    await page.getByRole("heading", { name: "Alice" }).waitFor();
    expect(await pathname()).toBe(`/c/${CHAT}`);
  });

  it("finds people by a display-name word, diacritics folded, and lists everyone to browse (people row)", async () => {
    const signup = await fetch(`${url}/api/signup`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "dan", password: "correct horse", displayName: "Dan Ångström Builder" }),
    });
    expect(signup.status).toBe(201);
    const { page } = alice;
    await page.getByRole("button", { name: "New chat" }).click();
    const people = () => page.getByRole("list", { name: "People" }).getByRole("button").allTextContents();
    // Nothing typed: everyone but herself, in name order.
    await readUntil("the browse list", people, (p) => p.length === 3);
    expect(await people()).toEqual([
      "Chat with Bob @bob",
      "Chat with Dan Ångström Builder @dan",
      `Chat with ${LONG_NAME} @carol`,
    ]);
    for (const q of ["Builder", "angstr", "ÅNG"]) {
      await page.getByLabel("Search people").fill(q);
      await readUntil(
        `"${q}" finds Dan by a later word`,
        people,
        (p) => p.length === 1 && p[0] === "Chat with Dan Ångström Builder @dan",
      );
    }
    await page.getByLabel("Search people").fill("");
    await readUntil("the browse list again", people, (p) => p.length === 3);
    await page.getByLabel("Search people").press("Escape");
  });

  it("closes the new-chat panel on Escape, rings focus at ≥ 3:1, and shows presence by shape too (row 9)", async () => {
    const { page } = alice;
    await page.getByRole("button", { name: "New chat" }).click();
    const search = page.getByLabel("Search people");
    await search.waitFor();
    await shoot(page, "new-chat");
    await search.press("Escape");
    expect(await page.getByRole("heading", { name: "New chat" }).count()).toBe(0);

    for (const t of ["light", "dark"]) {
      await page.evaluate((x) => (document.documentElement.dataset.theme = x), t);
      await page.keyboard.press("Tab"); // keyboard focus: :focus-visible applies
      const ring = await page.evaluate(() => {
        const el = document.activeElement as HTMLElement;
        return { outline: getComputedStyle(el).outlineColor, width: getComputedStyle(el).outlineWidth };
      });
      const behind = await backgroundBehind(page, "activeElement");
      expect({ t, ratio: contrastRatio(ring.outline, behind) >= 3, width: ring.width }).toEqual({
        t,
        ratio: true,
        width: "3px",
      });
    }

    // Carol leaves: Alice's list shows her offline as a hollow ring, Bob online as a filled dot.
    await carol.context.close();
    const dot = (name: string) => page.getByTestId("chat-item").filter({ hasText: name }).getByTestId("presence-dot");
    await readUntil(
      "Carol offline",
      () => dot(LONG_NAME).getAttribute("data-online"),
      (v) => v === "false",
      60_000,
    );
    for (const t of ["light", "dark"]) {
      await page.evaluate((x) => (document.documentElement.dataset.theme = x), t);
      const look = (name: string) =>
        dot(name).evaluate((d) => {
          const s = getComputedStyle(d);
          return {
            fill: s.backgroundColor,
            ring: s.borderTopColor,
            ringWidth: s.borderTopWidth,
            title: d.getAttribute("title"),
          };
        });
      const [offline, online] = [await look(LONG_NAME), await look("Bob")];
      expect(offline.fill).toBe("rgba(0, 0, 0, 0)"); // hollow
      expect(online.fill).not.toBe("rgba(0, 0, 0, 0)"); // filled
      expect([offline.title, online.title]).toEqual(["offline", "online"]);
      const behind = await backgroundBehind(page, '[data-testid="presence-dot"][data-online="false"]');
      expect({ t, ring: contrastRatio(offline.ring, behind) >= 3 }).toEqual({ t, ring: true });
    }
  });

  it("opens a group's member list from its header, with presence by dot and word (members row)", async () => {
    const { page } = alice;
    await page.getByRole("button", { name: "New chat" }).click();
    await page.getByLabel("Group", { exact: true }).check();
    await page.getByLabel("Group title").fill("Team");
    for (const [q, name] of [
      ["bo", /Bob/],
      ["wolfe", /Wolfe/],
    ] as const) {
      await page.getByLabel("Search people").fill(q);
      await page.getByRole("checkbox", { name }).check();
    }
    await page.getByRole("button", { name: "Create group" }).click();
    await page.getByRole("heading", { name: "Team" }).waitFor();
    const toggle = page.getByRole("button", { name: "3 members" });
    expect(await toggle.getAttribute("aria-expanded")).toBe("false");
    await toggle.click();
    expect(await toggle.getAttribute("aria-expanded")).toBe("true");
    const rows = () =>
      page
        .getByRole("list", { name: "Members" })
        .getByTestId("member")
        .evaluateAll((lis) =>
          lis.map((li) => ({
            name: li.querySelector(".person")?.textContent,
            status: li.querySelector("[data-testid=member-status]")?.textContent,
            dot: li.querySelector("[data-testid=presence-dot]")?.getAttribute("data-online"),
          })),
        );
    // Carol closed her tab in the previous test: offline, a hollow ring; Bob online, a filled dot.
    const list = await readUntil(
      "members with presence",
      rows,
      (r) => r.length === 3 && r.every((m) => m.dot !== undefined),
    );
    expect(list).toEqual([
      { name: "Alice", status: "you", dot: "true" },
      { name: "Bob", status: "online", dot: "true" },
      { name: LONG_NAME, status: expect.stringMatching(/^(last seen .+|offline)$/), dot: "false" },
    ]);
    await shoot(page, "members");
    await toggle.click();
    expect(await page.getByRole("list", { name: "Members" }).count()).toBe(0);
  });

  it("has no serious or critical axe-core violation on login, chat list, conversation and new chat, light and dark", async () => {
    const visitor = await openUser(browser!, url, DESKTOP);
    const { page } = alice;
    const views: [string, Page, () => Promise<void>][] = [
      ["login", visitor.page, () => visitor.page.getByRole("heading", { name: "Log in" }).waitFor()],
      ["chat list", page, () => page.getByTestId("chat-item").first().waitFor()],
      [
        "conversation",
        page,
        async () => {
          await page.getByTestId("chat-item").filter({ hasText: "Bob" }).click();
          await page.getByTestId("message").first().waitFor();
        },
      ],
      [
        "new chat",
        page,
        async () => {
          await page.getByRole("button", { name: "New chat" }).click();
          await page.getByLabel("Search people").fill("bo");
          await page.getByRole("button", { name: /Chat with Bob/ }).waitFor();
        },
      ],
    ];
    const found: Record<string, unknown> = {};
    for (const [view, p, reach] of views) {
      await reach();
      for (const t of ["light", "dark"]) {
        await p.evaluate((x) => (document.documentElement.dataset.theme = x), t);
        const v = await seriousAxeViolations(p);
        if (v.length > 0) found[`${view} ${t}`] = v;
      }
    }
    expect(found).toEqual({});
    await visitor.context.close();
  });

  it("serves an entry chunk within 100 kB gzip (row 11)", async () => {
    const html = readFileSync(path.join(distDir, "index.html"), "utf8");
    const src = /<script type="module"[^>]*src="\/(assets\/[^"]+\.js)"/.exec(html)?.[1];
    const served = await alice.page.evaluate(async (s) => (await fetch(`/${s}`)).text(), src!);
    expect(gzipSync(Buffer.from(served)).length / 1000).toBeLessThanOrEqual(100);
    expect(alice.errors).toEqual([]);
    expect(bob.errors).toEqual([]);
  });
});
