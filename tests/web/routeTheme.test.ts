import { conversationFromPath, pathOf } from "../../web/src/state/route";
import { effectiveTheme, saveTheme, storedTheme, THEME_KEY } from "../../web/src/state/theme";

describe("route", () => {
  it("round-trips direct and group ids with readable colons", () => {
    expect(pathOf("d:alice:bob")).toBe("/c/d:alice:bob");
    expect(conversationFromPath("/c/d:alice:bob")).toBe("d:alice:bob");
    expect(conversationFromPath(pathOf("g:Ab_9-xyz12"))).toBe("g:Ab_9-xyz12");
    expect(conversationFromPath("/c/d%3Aalice%3Abob/")).toBe("d:alice:bob");
  });

  it("reads anything else as the chat list", () => {
    expect(pathOf(null)).toBe("/");
    for (const p of ["/", "/c/", "/c/a/b", "/x/d:a:b", "/c/%E0%A4%A"]) expect(conversationFromPath(p)).toBeNull();
  });
});

describe("theme", () => {
  it("follows the system until the user chooses, then remembers the choice", () => {
    const map = new Map<string, string>();
    const storage = {
      getItem: (k: string) => map.get(k) ?? null,
      setItem: (k: string, v: string) => void map.set(k, v),
    };
    expect(effectiveTheme(storedTheme(storage), true)).toBe("dark");
    expect(effectiveTheme(storedTheme(storage), false)).toBe("light");
    saveTheme(storage, "light");
    expect(map.get(THEME_KEY)).toBe("light");
    expect(effectiveTheme(storedTheme(storage), true)).toBe("light");
    map.set(THEME_KEY, "purple");
    expect(storedTheme(storage)).toBeNull();
  });

  it("falls back to the system when storage throws", () => {
    const broken = {
      getItem: () => {
        throw new Error("denied");
      },
      setItem: () => {
        throw new Error("denied");
      },
    };
    expect(storedTheme(broken)).toBeNull();
    expect(() => saveTheme(broken, "dark")).not.toThrow();
  });
});
