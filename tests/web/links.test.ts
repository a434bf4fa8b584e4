import { linkParts, safeHref } from "../../web/src/state/links";

describe("linkParts", () => {
  it("turns http(s) and www addresses into links and keeps the text around them", () => {
    expect(linkParts("see https://example.org/a?b=1#c and www.parley.dev/x")).toEqual([
      { kind: "text", text: "see " },
      { kind: "link", text: "https://example.org/a?b=1#c", href: "https://example.org/a?b=1#c" },
      { kind: "text", text: " and " },
      { kind: "link", text: "www.parley.dev/x", href: "https://www.parley.dev/x" },
    ]);
  });

  it("leaves trailing punctuation and an unopened parenthesis out of the link", () => {
    expect(linkParts("(at http://x.org/a).")).toEqual([
      { kind: "text", text: "(at " },
      { kind: "link", text: "http://x.org/a", href: "http://x.org/a" },
      { kind: "text", text: ")." },
    ]);
    expect(linkParts("https://en.wikipedia.org/wiki/Foo_(bar)")[0]).toMatchObject({
      kind: "link",
      text: "https://en.wikipedia.org/wiki/Foo_(bar)",
    });
  });

  it("never links other schemes", () => {
    for (const body of ["javascript:alert(1)", "data:text/html,<b>x</b>", "file:///etc/passwd", "ftp://x.org"]) {
      expect(linkParts(body).every((p) => p.kind === "text")).toBe(true);
    }
    expect(safeHref("javascript:alert(1)")).toBeUndefined();
    expect(safeHref("https://")).toBeUndefined();
  });

  it("returns the body unchanged when it has no link", () => {
    expect(linkParts("שלום עולם")).toEqual([{ kind: "text", text: "שלום עולם" }]);
    expect(linkParts("")).toEqual([]);
  });
});
