/**
 * The web client in a real browser (Debian's Chromium driven by playwright-core) against the real local stack:
 * emulators, persister runner and two gateways. Alice and Bob sit on different gateways, so every message and
 * typing frame crosses between gateway processes.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Browser } from "playwright-core";
import { startLocalStack, type LocalStack } from "../../runtime/local/stack";
import { webDistDir as distDir } from "../../runtime/local/web-build";
import {
  bodies,
  connectionStatus,
  readUntil,
  launchChromium,
  openUser,
  send,
  signUp,
  startDirectChat,
  ensureWebBuild,
} from "./support/browser";

const repoRoot = path.resolve(__dirname, "../..");
const resultsDir = path.join(repoRoot, "test-results");

jest.setTimeout(240_000);

describe("web client in Chromium", () => {
  let stack: LocalStack | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    ensureWebBuild();
    mkdirSync(resultsDir, { recursive: true });
    browser = await launchChromium();
    stack = await startLocalStack({ gateways: 2, inMemory: true, webDir: distDir });
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  const open = (url: string, viewport: { width: number; height: number }) => openUser(browser!, url, viewport);

  it("two users chat across gateways, survive going offline, and see unread counts", async () => {
    const [gwA, gwB] = stack!.gateways;
    expect(gwA && gwB).toBeTruthy();
    const alice = await open(gwA!.url, { width: 1100, height: 760 });
    const bob = await open(gwB!.url, { width: 390, height: 800 }); // a phone

    await signUp(alice.page, "alice", "Alice");
    await signUp(bob.page, "bob", "Bob");

    // Alice finds Bob by prefix and starts a direct chat.
    await startDirectChat(alice.page, "bo", "Bob");
    await readUntil(
      "Alice's list shows Bob online",
      () => alice.page.getByTestId("chat-item").getByTestId("presence-dot").getAttribute("data-online"),
      (v) => v === "true",
    );
    await send(alice.page, "Hi Bob");
    await readUntil(
      "Alice's first message stored",
      () => alice.page.getByTestId("message-status").allTextContents(),
      (s) => s.join() === "Delivered",
    );

    // Bob did not know the chat: its first message makes his list fetch it.
    const bobChat = bob.page.getByTestId("chat-item").filter({ hasText: "Alice" });
    await bobChat.waitFor();
    await bobChat.click();
    await readUntil(
      "Bob sees Alice's message",
      () => bodies(bob.page),
      (b) => b.join("|") === "Hi Bob",
    );

    await send(bob.page, "Hi Alice");
    await send(bob.page, "How are you?");
    const conversation = ["Hi Bob", "Hi Alice", "How are you?"];
    await readUntil(
      "Alice sees the replies in order",
      () => bodies(alice.page),
      (b) => b.join("|") === conversation.join("|"),
    );
    await readUntil(
      "Bob sees the same order",
      () => bodies(bob.page),
      (b) => b.join("|") === conversation.join("|"),
    );

    // Bob types without sending; Alice sees it.
    await bob.page.getByRole("textbox", { name: "Message", exact: true }).pressSequentially("I am wri", { delay: 30 });
    await readUntil(
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
    await readUntil(
      "Bob notices he is offline",
      () => connectionStatus(bob.page),
      (s) => s === "offline",
      30_000,
    );
    expect(await bob.page.getByTestId("connection-banner").textContent()).toMatch(/offline/i);
    await bob.page.screenshot({ path: path.join(resultsDir, "e2e-bob-offline.png"), fullPage: true });

    const missed = [1, 2, 3, 4, 5].map((i) => `While you were away ${i}`);
    for (const text of missed) await send(alice.page, text);
    await readUntil(
      "Alice's five messages stored",
      () => alice.page.getByTestId("message-status").allTextContents(),
      (s) => s.length === 6 && s.every((x) => x === "Delivered"),
    );

    await bob.context.setOffline(false);
    await readUntil(
      "Bob is live again",
      () => connectionStatus(bob.page),
      (s) => s === "live",
      30_000,
    );
    await readUntil(
      "Bob's unread badge counts the five",
      async () =>
        (await bobChat.getByTestId("unread-badge").count()) ? bobChat.getByTestId("unread-badge").textContent() : "",
      (t) => t === "5 unread",
    );
    expect(await bobChat.textContent()).toContain("While you were away 5");
    await bob.page.screenshot({ path: path.join(resultsDir, "e2e-bob-unread.png"), fullPage: true });

    await bobChat.click();
    const all = [...conversation, ...missed];
    await readUntil(
      "Bob sees all eight once, in order",
      () => bodies(bob.page),
      (b) => b.join("|") === all.join("|"),
    );
    await readUntil(
      "Bob's badge clears",
      () => bobChat.getByTestId("unread-badge").count(),
      (n) => n === 0,
    );
    await readUntil(
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
