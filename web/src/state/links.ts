/**
 * Finds web links in a message body. Only http and https become links (a `javascript:` or `data:` text never
 * does), a bare `www.` address gets https, and trailing punctuation stays text — "see https://x.org." links
 * https://x.org. A tiny function rather than a library: the rules fit in a screen and the bundle stays small.
 */

export type BodyPart = { kind: "text"; text: string } | { kind: "link"; text: string; href: string };

const candidate = /\b(?:https?:\/\/|www\.)[^\s<>"]+/gi;
const trailing = /[.,;:!?'"\]}*_~]+$/;

/** Drops trailing punctuation and a closing parenthesis the link did not open ("(see https://x.org)"). */
function trimEnd(raw: string): string {
  let s = raw;
  for (;;) {
    const before = s;
    s = s.replace(trailing, "");
    if (s.endsWith(")") && (s.match(/\(/g)?.length ?? 0) < (s.match(/\)/g)?.length ?? 0)) s = s.slice(0, -1);
    if (s === before) return s;
  }
}

/** The href for a link's text, or undefined if it is not a well-formed http(s) URL with a host. */
export function safeHref(text: string): string | undefined {
  const withScheme = /^www\./i.test(text) ? `https://${text}` : text;
  try {
    const url = new URL(withScheme);
    if ((url.protocol !== "http:" && url.protocol !== "https:") || !url.hostname) return undefined;
    return url.href;
  } catch {
    return undefined;
  }
}

export function linkParts(body: string): BodyPart[] {
  const parts: BodyPart[] = [];
  let last = 0;
  for (const match of body.matchAll(candidate)) {
    const text = trimEnd(match[0]);
    const href = safeHref(text);
    if (!href) continue;
    const start = match.index;
    if (start > last) parts.push({ kind: "text", text: body.slice(last, start) });
    parts.push({ kind: "link", text, href });
    last = start + text.length;
  }
  if (last < body.length) parts.push({ kind: "text", text: body.slice(last) });
  return parts;
}
