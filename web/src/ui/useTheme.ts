import { useCallback, useEffect, useState } from "react";
import { effectiveTheme, saveTheme, storedTheme, type Theme } from "../state/theme";

const darkQuery = "(prefers-color-scheme: dark)";

function systemDark(): boolean {
  return globalThis.matchMedia?.(darkQuery).matches ?? false;
}

/** Sets the page's colours before the first render, so a dark system never flashes light. */
export function applyInitialTheme(): void {
  document.documentElement.dataset.theme = effectiveTheme(storedTheme(globalThis.localStorage), systemDark());
}

/** The theme in force (the user's choice, else the system's, followed live) and a toggle that remembers it. */
export function useTheme(): { theme: Theme; toggle: () => void } {
  const [stored, setStored] = useState(() => storedTheme(globalThis.localStorage));
  const [dark, setDark] = useState(systemDark);
  useEffect(() => {
    const mq = globalThis.matchMedia?.(darkQuery);
    if (!mq) return;
    const onChange = () => setDark(mq.matches);
    mq.addEventListener("change", onChange);
    return () => mq.removeEventListener("change", onChange);
  }, []);
  const theme = effectiveTheme(stored, dark);
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);
  const toggle = useCallback(() => {
    const next = theme === "dark" ? "light" : "dark";
    saveTheme(globalThis.localStorage, next);
    setStored(next);
  }, [theme]);
  return { theme, toggle };
}
