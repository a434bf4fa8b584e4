/**
 * Light or dark: the system's `prefers-color-scheme` until the user picks one with the toggle, which is then
 * remembered in localStorage (per browser, not per account).
 */

export type Theme = "light" | "dark";

export const THEME_KEY = "parley.theme";

export function storedTheme(storage: Pick<Storage, "getItem"> | undefined): Theme | null {
  try {
    const v = storage?.getItem(THEME_KEY);
    return v === "light" || v === "dark" ? v : null;
  } catch {
    return null; // storage disabled: follow the system
  }
}

export function effectiveTheme(stored: Theme | null, systemDark: boolean): Theme {
  return stored ?? (systemDark ? "dark" : "light");
}

export function saveTheme(storage: Pick<Storage, "setItem"> | undefined, theme: Theme): void {
  try {
    storage?.setItem(THEME_KEY, theme);
  } catch {
    // storage disabled: the choice lasts for this page only
  }
}
