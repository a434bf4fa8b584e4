/**
 * A tag for the gateway image that changes exactly when the build context does. The ECR repository has
 * immutable tags, and awsx.ecr.Image's default tag is a hash of the context *path* (the same on every `up`), so
 * the second push of a changed image would be refused. Hashing what `docker build` sees — every file the
 * .dockerignore lets through — gives a new tag per change and the same tag when nothing changed (no diff).
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";

/** .dockerignore patterns as regular expressions over slash-separated paths relative to the context. */
export function dockerignorePatterns(text: string): RegExp[] {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => {
      // Exceptions would need Docker's full precedence rules; this context uses none, so refuse rather than guess.
      if (line.startsWith("!")) throw new Error(`.dockerignore: exceptions ("${line}") are not supported here`);
      const pattern = line.replace(/^\/+/, "").replace(/\/+$/, "");
      const source = pattern
        .split(/(\*\*\/?|\*|\?)/)
        .map((part) => {
          if (part === "**/" || part === "**") return "(?:.*/)?";
          if (part === "*") return "[^/]*";
          if (part === "?") return "[^/]";
          return part.replace(/[.+^${}()|[\]\\]/g, "\\$&");
        })
        .join("");
      // A matched directory excludes everything under it.
      return new RegExp(`^${source}(?:/.*)?$`);
    });
}

function contextFiles(root: string, ignored: RegExp[], dir = ""): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = dir ? `${dir}/${entry.name}` : entry.name;
    if (ignored.some((re) => re.test(rel))) continue;
    if (entry.isDirectory()) out.push(...contextFiles(root, ignored, rel));
    else if (entry.isFile()) out.push(rel);
  }
  return out.sort();
}

/** `src-` and 16 hex digits of a SHA-256 over every context file's path and bytes. */
export function buildContextTag(contextDir: string): string {
  const ignoreFile = path.join(contextDir, ".dockerignore");
  const ignored = existsSync(ignoreFile) ? dockerignorePatterns(readFileSync(ignoreFile, "utf8")) : [];
  const hash = createHash("sha256");
  for (const rel of contextFiles(contextDir, ignored)) {
    hash.update(`${rel}\0`);
    hash.update(readFileSync(path.join(contextDir, rel)));
    hash.update("\0");
  }
  return `src-${hash.digest("hex").slice(0, 16)}`;
}
