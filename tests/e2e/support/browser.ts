/**
 * Debian's Chromium driven by playwright-core, and the few steps every browser test takes as a person would:
 * open the app, sign up, send. Never downloads a browser; fails (never skips) when Chromium is missing.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { repoRoot } from "../../../runtime/local/processes";
import { webBuildState } from "../../../runtime/local/web-build";
import { timing, waitUntil } from "../../support/timing";

export const CHROMIUM = "/usr/bin/chromium";

/**
 * The same build `npm start` runs (Vite's API, only when web/dist is missing or older than its sources), in a
 * child process: jest's module system cannot load ESM-only Vite.
 */
export function ensureWebBuild(): void {
  if (webBuildState() === "fresh") return;
  execFileSync(process.execPath, ["--import", "tsx", "runtime/local/web-build.ts"], { cwd: repoRoot, stdio: "pipe" });
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: the browser tests need Debian's Chromium (apt-get install -y chromium). ` +
        "They never download a browser.",
    );
  }
  return chromium.launch({
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
}

/** Reads (from the page) until `check` holds, then returns the value; on timeout fails with the last value read. */
export async function readUntil<T>(
  what: string,
  read: () => Promise<T>,
  check: (v: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> {
  let last: T | undefined;
  const hit = await waitUntil(
    async () => {
      const value = await read();
      last = value;
      return check(value) && { value };
    },
    { timeoutMs: timing.ms(timeoutMs), intervalMs: 100, what: () => `${what} (last value: ${JSON.stringify(last)})` },
  );
  return hit.value;
}

export const bodies = (page: Page) => page.getByTestId("message-body").allTextContents();
export const connectionStatus = (page: Page) => page.locator(".app").getAttribute("data-connection");

export interface User {
  page: Page;
  context: BrowserContext;
  /** Console errors and page errors while online: a test expects none. */
  errors: string[];
  /** Console errors while the context was set offline (the browser logs its failed reconnects). */
  offlineErrors: string[];
}

/** A fresh browser profile on `url`, collecting console errors. */
export async function openUser(
  browser: Browser,
  url: string,
  viewport: { width: number; height: number } = { width: 1100, height: 760 },
): Promise<User> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const user: User = { page, context, errors: [], offlineErrors: [] };
  let offline = false;
  page.on("console", (m) => {
    if (m.type() !== "error") return;
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

export async function signUp(page: Page, username: string, displayName: string): Promise<void> {
  await page.getByRole("button", { name: /create an account/i }).click();
  await page.getByLabel("Username").fill(username);
  await page.getByLabel(/Display name/).fill(displayName);
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Sign up" }).click();
  await page.getByRole("button", { name: "Log out" }).waitFor({ timeout: timing.ms(30_000) });
  await readUntil(
    `${username} live`,
    () => connectionStatus(page),
    (s) => s === "live",
  );
}

export async function send(page: Page, text: string): Promise<void> {
  const box = page.getByRole("textbox", { name: "Message", exact: true });
  await box.fill(text);
  await box.press("Enter");
}

/** Starts a direct chat with the person whose display name matches, from the "New chat" search. */
export async function startDirectChat(page: Page, search: string, displayName: string): Promise<void> {
  await page.getByRole("button", { name: "New chat" }).click();
  await page.getByLabel("Search people").fill(search);
  await page.getByRole("button", { name: new RegExp(`Chat with ${displayName}`) }).click();
  await page.getByRole("heading", { name: displayName }).waitFor();
}
