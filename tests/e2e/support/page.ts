/**
 * Page-side helpers for the web-client checks: a stand-in for the Notification API and the page's visibility
 * (headless Chromium has no desktop to show a notification on, and its tab is never hidden), and WCAG contrast
 * arithmetic on computed colours; and an axe-core run.
 */
import { readFileSync } from "node:fs";
import type { Page } from "playwright-core";

export interface FakeNotificationsWindow {
  __notifications: {
    /** How many times the page called Notification.requestPermission. */
    asked: number;
    shown: { title: string; body?: string; tag?: string }[];
    hide(): void;
    show(): void;
  };
}

/** Installs the stand-ins before the app's scripts run (reloads the page), permission "default" until asked. */
export async function installFakeNotifications(page: Page): Promise<void> {
  await page.addInitScript(() => {
    let hidden = false;
    const state = {
      asked: 0,
      shown: [] as { title: string; body?: string; tag?: string }[],
      hide() {
        hidden = true;
        document.dispatchEvent(new Event("visibilitychange"));
      },
      show() {
        hidden = false;
        document.dispatchEvent(new Event("visibilitychange"));
      },
    };
    class FakeNotification {
      static permission: NotificationPermission = "default";
      static requestPermission(): Promise<NotificationPermission> {
        state.asked++;
        FakeNotification.permission = "granted";
        return Promise.resolve("granted");
      }
      onclick: (() => void) | null = null;
      constructor(title: string, options: { body?: string; tag?: string } = {}) {
        state.shown.push({ title, body: options.body, tag: options.tag });
      }
    }
    Object.defineProperty(window, "Notification", { value: FakeNotification, configurable: true, writable: true });
    Object.defineProperty(Document.prototype, "visibilityState", {
      configurable: true,
      get: () => (hidden ? "hidden" : "visible"),
    });
    Object.defineProperty(Document.prototype, "hidden", { configurable: true, get: () => hidden });
    (window as unknown as FakeNotificationsWindow).__notifications = state;
  });
  await page.reload();
}

/** The background an element's outline or border is drawn against: the first opaque one among its ancestors. */
export function backgroundBehind(page: Page, selector: string | "activeElement"): Promise<string> {
  return page.evaluate((sel) => {
    const start = sel === "activeElement" ? document.activeElement : document.querySelector(sel);
    let e: Element | null = start?.parentElement ?? null;
    while (e) {
      const c = getComputedStyle(e).backgroundColor;
      if (c !== "rgba(0, 0, 0, 0)" && c !== "transparent") return c;
      e = e.parentElement;
    }
    return getComputedStyle(document.documentElement).backgroundColor;
  }, selector);
}

function channels(css: string): [number, number, number] {
  const m = /rgba?\(([\d.]+),? ([\d.]+),? ([\d.]+)/.exec(css);
  if (!m) throw new Error(`not an rgb() colour: ${css}`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

function luminance(css: string): number {
  const [r, g, b] = channels(css).map((v) => {
    const c = v / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** WCAG 2 contrast ratio of two computed colours ("rgb(…)"). */
export function contrastRatio(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

let axeSource: string | undefined;

/**
 * Runs axe-core (WCAG 2 A/AA rules) on the page as it is and returns the serious and critical violations.
 * Evaluated through the DevTools protocol, so the gateway's Content-Security-Policy does not stop it.
 */
export async function seriousAxeViolations(page: Page): Promise<AxeViolation[]> {
  axeSource ??= readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
  await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document, opts: object) => Promise<AxeResults> } }).axe;
    interface AxeResults {
      violations: { id: string; impact: string | null; help: string; nodes: { target: string[] }[] }[];
    }
    const results = await axe.run(document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
      resultTypes: ["violations"],
    });
    return results.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(" ")) }));
  });
}
