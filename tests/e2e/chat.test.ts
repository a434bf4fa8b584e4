/**
 * The web client in a real browser (Debian's Chromium driven by playwright-core) against the real local stack:
 * emulators, persister runner and two gateways. Alice and Bob sit on different gateways, so every message and
 * typing frame crosses between gateway processes.
 */
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { startLocalStack, type LocalStack } from "../../runtime/local/stack";
import { ensureWebBuilt, webDistDir as distDir } from "../../runtime/local/web-build";

const CHROMIUM = "/usr/bin/chromium";
const repoRoot = path.resolve(__dirname, "../..");
const resultsDir = path.join(repoRoot, "test-results");

jest.setTimeout(240_000);

/** Polls until `check` holds, then returns the value; on timeout fails with the last value seen. */
async function eventually<T>(
  what: string,
  read: () => Promise<T>,
  check: (v: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await read();
    if (check(last)) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const bodies = (page: Page) => page.getByTestId("message-body").allTextContents();
const connectionStatus = (page: Page) => page.locator(".app").getAttribute("data-connection");

interface User {
  page: Page;
  context: BrowserContext;
  errors: string[];
  offlineErrors: string[];
}

describe("web client in Chromium", () => {
  let stack: LocalStack | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `${CHROMIUM} is missing: the browser test needs Debian's Chromium (apt-get install -y chromium). ` +
          "It never downloads a browser.",
      );
    }
    // The same build `npm start` runs: Vite's API, only when web/dist is missing or older than its sources.
    await ensureWebBuilt();
    mkdirSync(resultsDir, { recursive: true });
    stack = await startLocalStack({ gateways: 2, inMemory: true, webDir: distDir });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-quic",
        "--no-first-run",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  async function open(url: string, viewport: { width: number; height: number }): Promise<User> {
    const context = await browser!.newContext({ viewport });
    const page = await context.newPage();
    const user: User = { page, context, errors: [], offlineErrors: [] };
    let offline = false;
    page.on("console", (m) => {
      if (m.type() !== "error") return;
      // While the context is offline, the browser itself logs the failed reconnect attempts.
      (offline ? user.offlineErrors : user.errors).push(m.text());
    });
    page.on("pageerror", (e) => user.errors.push(`pageerror: ${e.message}`));
    const setOffline = context.setOffline.bind(context);
    context.setOffline = async (v: boolean) => {
      offline = v;
      await setOffline(v);
    };
    await page.goto(url);
    return user;
  }

  async function signUp(page: Page, username: string, displayName: string): Promise<void> {
    await page.getByRole("button", { name: /create an account/i }).click();
    await page.getByLabel("Username").fill(username);
    await page.getByLabel(/Display name/).fill(displayName);
    await page.getByLabel("Password").fill("correct horse battery");
    await page.getByRole("button", { name: "Sign up" }).click();
    await page.getByRole("button", { name: "Log out" }).waitFor();
    await eventually(
      `${username} live`,
      () => connectionStatus(page),
      (s) => s === "live",
    );
  }

  async function send(page: Page, text: string): Promise<void> {
    const box = page.getByRole("textbox", { name: "Message", exact: true });
    await box.fill(text);
    await box.press("Enter");
  }

  it("two users chat across gateways, survive going offline, and see unread counts", async () => {
    const [gwA, gwB] = stack!.gateways;
    expect(gwA && gwB).toBeTruthy();
    const alice = await open(gwA!.url, { width: 1100, height: 760 });
    const bob = await open(gwB!.url, { width: 390, height: 800 }); // a phone

    await signUp(alice.page, "alice", "Alice");
    await signUp(bob.page, "bob", "Bob");

    // Alice finds Bob by prefix and starts a direct chat.
    await alice.page.getByRole("button", { name: "New chat" }).click();
    await alice.page.getByLabel("Search people").fill("bo");
    await alice.page.getByRole("button", { name: /Chat with Bob/ }).click();
    await alice.page.getByRole("heading", { name: "Bob" }).waitFor();
    await eventually(
      "Alice's list shows Bob online",
      () => alice.page.getByTestId("chat-item").getByTestId("presence-dot").getAttribute("data-online"),
      (v) => v === "true",
    );
    await send(alice.page, "Hi Bob");
    await eventually(
      "Alice's first message stored",
      () => alice.page.getByTestId("message-status").allTextContents(),
      (s) => s.join() === "Delivered",
    );

    // Bob did not know the chat: its first message makes his list fetch it.
    const bobChat = bob.page.getByTestId("chat-item").filter({ hasText: "Alice" });
    await bobChat.waitFor();
    await bobChat.click();
    await eventually(
      "Bob sees Alice's message",
      () => bodies(bob.page),
      (b) => b.join("|") === "Hi Bob",
    );

    await send(bob.page, "Hi Alice");
    await send(bob.page, "How are you?");
    const conversation = ["Hi Bob", "Hi Alice", "How are you?"];
    await eventually(
      "Alice sees the replies in order",
      () => bodies(alice.page),
      (b) => b.join("|") === conversation.join("|"),
    );
    await eventually(
      "Bob sees the same order",
      () => bodies(bob.page),
      (b) => b.join("|") === conversation.join("|"),
    );

    // Bob types without sending; Alice sees it.
    await bob.page.getByRole("textbox", { name: "Message", exact: true }).pressSequentially("I am wri", { delay: 30 });
    await eventually(
      "Alice sees Bob typing",
      () => alice.page.getByTestId("typing-indicator").textContent(),
      (t) => t === "Bob is typing…",
    );
    await bob.page.getByRole("textbox", { name: "Message", exact: true }).fill("");

    // Bob leaves the chat (back to the list on his phone) and loses the network.
    await bob.page.getByRole("button", { name: "Back to chats" }).click();
    await bobChat.waitFor();
    expect(await bobChat.getByTestId("unread-badge").count()).toBe(0);
    await bob.context.setOffline(true);
    await eventually(
      "Bob notices he is offline",
      () => connectionStatus(bob.page),
      (s) => s === "offline",
      30_000,
    );
    expect(await bob.page.getByTestId("connection-banner").textContent()).toMatch(/offline/i);
    await bob.page.screenshot({ path: path.join(resultsDir, "e2e-bob-offline.png"), fullPage: true });

    const missed = [1, 2, 3, 4, 5].map((i) => `While you were away ${i}`);
    for (const text of missed) await send(alice.page, text);
    await eventually(
      "Alice's five messages stored",
      () => alice.page.getByTestId("message-status").allTextContents(),
      (s) => s.length === 6 && s.every((x) => x === "Delivered"),
    );

    await bob.context.setOffline(false);
    await eventually(
      "Bob is live again",
      () => connectionStatus(bob.page),
      (s) => s === "live",
      30_000,
    );
    await eventually(
      "Bob's unread badge counts the five",
      async () =>
        (await bobChat.getByTestId("unread-badge").count()) ? bobChat.getByTestId("unread-badge").textContent() : "",
      (t) => t === "5 unread",
    );
    expect(await bobChat.textContent()).toContain("While you were away 5");
    await bob.page.screenshot({ path: path.join(resultsDir, "e2e-bob-unread.png"), fullPage: true });

    await bobChat.click();
    const all = [...conversation, ...missed];
    await eventually(
      "Bob sees all eight once, in order",
      () => bodies(bob.page),
      (b) => b.join("|") === all.join("|"),
    );
    await eventually(
      "Bob's badge clears",
      () => bobChat.getByTestId("unread-badge").count(),
      (n) => n === 0,
    );
    await eventually(
      "Alice sees the read receipt",
      () => alice.page.getByTestId("seen-by").allTextContents(),
      (s) => s.some((x) => x.includes("Seen by Bob")),
    );
    expect(await bodies(alice.page)).toEqual(all);

    await alice.page.screenshot({ path: path.join(resultsDir, "e2e-alice.png"), fullPage: true });
    await bob.page.screenshot({ path: path.join(resultsDir, "e2e-bob.png"), fullPage: true });

    expect(alice.errors).toEqual([]);
    expect(bob.errors).toEqual([]);
    await alice.context.close();
    await bob.context.close();
  });
});
