import { z } from "zod";
import {
  apiRoutes,
  errorOfBody,
  fillPath,
  historyQuerySchema,
  matchPath,
  PREVIEW_CHARS,
  previewOf,
  presenceQuerySchema,
} from "../../runtime/contracts/api";
import { describeZodError } from "../../runtime/contracts/validation";

describe("route paths", () => {
  test("every route's path matches itself, and no two routes share a method and path", () => {
    const seen = new Set<string>();
    for (const route of Object.values(apiRoutes)) {
      const filled = fillPath(route.path, { conversationId: "g:abcdefgh" });
      expect(matchPath(route.path, filled)).toBeDefined();
      const key = `${route.method} ${route.path}`;
      expect(seen.has(key)).toBe(false);
      seen.add(key);
    }
  });

  test("a parameter is one non-empty segment, kept encoded for the caller to decode", () => {
    const template = apiRoutes.history.path;
    expect(fillPath(template, { conversationId: "d:a/b" })).toBe("/api/conversations/d%3Aa%2Fb/messages");
    expect(matchPath(template, "/api/conversations/d%3Aa%2Fb/messages")).toEqual({ conversationId: "d%3Aa%2Fb" });
    expect(matchPath(template, "/api/conversations//messages")).toBeUndefined();
    expect(matchPath(template, "/api/conversations/a/b/messages")).toBeUndefined();
    expect(matchPath(template, "/api/conversations/a/messages/")).toBeUndefined();
    expect(matchPath("/api/me", "/api/me")).toEqual({});
    expect(matchPath("/api/me", "/api/mee")).toBeUndefined();
  });
});

describe("query schemas", () => {
  test("history: strings coerced, limit defaults to 50 and is bounded by a page", () => {
    expect(historyQuerySchema.parse({ before: "7" })).toEqual({ before: 7, limit: 50 });
    expect(historyQuerySchema.safeParse({ limit: "101" }).success).toBe(false);
  });

  test("presence: comma-separated ids, duplicates and blanks dropped", () => {
    expect(presenceQuerySchema.parse({ userIds: "bob, alice,,bob" })).toEqual({ userIds: ["bob", "alice"] });
    expect(presenceQuerySchema.safeParse({ userIds: " , " }).success).toBe(false);
  });
});

describe("describeZodError", () => {
  const schema = z.object({ a: z.object({ b: z.number() }), c: z.string() });
  const error = (input: unknown) => {
    const r = schema.safeParse(input);
    if (r.success) throw new Error("expected a failure");
    return r.error;
  };

  test("the first issue as path: message", () => {
    expect(describeZodError(error({ a: { b: "x" }, c: 1 }))).toMatch(/^a\.b: [^;]+$/);
  });

  test("every issue with all", () => {
    expect(describeZodError(error({ a: { b: "x" }, c: 1 }), { all: true })).toMatch(/^a\.b: .+; c: .+$/);
  });

  test("an issue about the whole input: named by root, else the message alone", () => {
    const whole = error("not an object");
    expect(describeZodError(whole, { root: "body" })).toMatch(/^body: /);
    expect(describeZodError(whole)).toBe(whole.issues[0]!.message);
  });
});

describe("errorOfBody", () => {
  test("reads the error body's code and message", () => {
    expect(errorOfBody({ error: { code: "NOT_MEMBER", message: "no" } })).toEqual({
      code: "NOT_MEMBER",
      message: "no",
    });
  });

  test("leaves out what is missing or of the wrong type", () => {
    expect(errorOfBody(undefined)).toEqual({});
    expect(errorOfBody("<html>")).toEqual({});
    expect(errorOfBody({ error: "boom" })).toEqual({});
    expect(errorOfBody({ error: { code: 7, message: "m" } })).toEqual({ message: "m" });
  });
});

test("previewOf keeps PREVIEW_CHARS units and never ends inside a surrogate pair", () => {
  expect(previewOf("x".repeat(PREVIEW_CHARS + 10))).toHaveLength(PREVIEW_CHARS);
  const emojiAtCut = "x".repeat(PREVIEW_CHARS - 1) + "😀";
  expect(previewOf(emojiAtCut)).toBe("x".repeat(PREVIEW_CHARS - 1));
  expect(previewOf("short")).toBe("short");
});
