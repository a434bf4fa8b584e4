/**
 * A newcomer's first minute, as the README tells it: in a tree with no web/dist and no data/, run the README's
 * first command exactly as written (only `npm install` is replaced by linking the installed node_modules), wait
 * for the printed URL, chat in Chromium, use the local tools the README names against the running stack, then
 * Ctrl-C (SIGINT to the whole process group, as a terminal sends it) and check that nothing is left running.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import {
  copyFileSync,
  lstatSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Browser } from "playwright-core";
import { newcomerEnv, repoRoot, runCommand } from "../support/commands";
import { timing, waitUntil } from "../support/timing";
import { bodies, readUntil, launchChromium, openUser, send, signUp, startDirectChat } from "./support/browser";

jest.setTimeout(timing.ms(300_000));

/** The README's first code block, command by command (comments dropped). */
function readmeFirstCommands(readme: string): string[] {
  const block = /```(?:sh|bash|shell)\n([\s\S]*?)```/.exec(readme);
  if (!block) throw new Error("README.md has no sh code block");
  return block[1]!
    .split("\n")
    .map((line) => line.replace(/\s+#.*$/, "").trim())
    .filter(Boolean);
}

/**
 * The start command with its install step taken out: `npm install && npm start` → `npm start`. Only an install
 * step may be replaced (by linking node_modules); everything else runs as written.
 */
function withoutInstall(command: string): { install: boolean; rest: string } {
  const steps = command.split("&&").map((s) => s.trim());
  const isInstall = (s: string) => /^npm (install|i|ci)$/.test(s);
  return { install: steps.some(isInstall), rest: steps.filter((s) => !isInstall(s)).join(" && ") };
}

/** The working tree as `git clone` would give it (tracked and new files), without node_modules, dist or data. */
function copyTree(dest: string): void {
  const files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
    cwd: repoRoot,
    encoding: "utf8",
  })
    .split("\0")
    .filter(Boolean);
  for (const f of files) {
    const from = path.join(repoRoot, f);
    // Deleted in the working tree, or not a plain file (a node_modules symlink, say).
    if (!existsSync(from) || !lstatSync(from).isFile()) continue;
    mkdirSync(path.dirname(path.join(dest, f)), { recursive: true });
    copyFileSync(from, path.join(dest, f));
  }
}

/** Every process whose parent chain leads to `root` (from /proc), root included. */
function processTree(root: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // pid (comm) state ppid …; comm may contain spaces and parentheses.
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      parentOf.set(Number(entry), ppid);
    } catch {
      // exited while we looked
    }
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) {
    for (const [pid, ppid] of parentOf) if (ppid === tree[i] && !tree.includes(pid)) tree.push(pid);
  }
  return tree;
}

function alive(pid: number): boolean {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, "utf8");
    return state.slice(state.lastIndexOf(")") + 2, state.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

async function portFree(port: number): Promise<boolean> {
  const srv = createServer();
  return new Promise((resolve) => {
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

describe("first run, as the README says", () => {
  const tree = mkdtempSync(path.join(tmpdir(), "parley-first-run-"));
  let browser: Browser | undefined;
  let shell: ChildProcess | undefined;

  afterAll(async () => {
    await browser?.close();
    if (shell?.pid && shell.exitCode === null && shell.signalCode === null) process.kill(-shell.pid, "SIGKILL");
    rmSync(tree, { recursive: true, force: true });
  });

  test("npm install && npm start serves a working chat; the tools find it; Ctrl-C leaves nothing behind", async () => {
    const readme = readFileSync(path.join(repoRoot, "README.md"), "utf8");
    const commands = readmeFirstCommands(readme);
    const startCommand = commands.find((c) => /\bnpm start\b/.test(c));
    expect(startCommand).toBe("npm install && npm start");
    const { install, rest } = withoutInstall(startCommand!);
    expect(install).toBe(true);

    copyTree(tree);
    expect(existsSync(path.join(tree, "web/dist"))).toBe(false);
    expect(existsSync(path.join(tree, "data"))).toBe(false);
    symlinkSync(path.join(repoRoot, "node_modules"), path.join(tree, "node_modules"), "dir");
    if (!(await portFree(8080))) {
      throw new Error("port 8080 is taken: this test runs `npm start` as a newcomer does, on its default port");
    }

    const t0 = Date.now();
    // Its own process group, like a terminal's foreground job, so Ctrl-C can go to the whole group.
    shell = spawn("bash", ["-c", rest], { cwd: tree, env: newcomerEnv(), detached: true, stdio: "pipe" });
    let out = "";
    shell.stdout!.on("data", (d) => (out += d));
    shell.stderr!.on("data", (d) => (out += d));
    const url = await waitUntil(
      () => {
        if (shell!.exitCode !== null) throw new Error(`npm start exited (${shell!.exitCode}):\n${out}`);
        return /Open:\s+(http:\/\/\S+)/.exec(out)?.[1];
      },
      { timeoutMs: timing.ms(180_000), intervalMs: 100, what: `the URL from npm start; output so far:\n${out}` },
    );
    const urlMs = Date.now() - t0;
    expect(url).toBe("http://localhost:8080");
    expect(out).toMatch(/Building the web client/);

    // Chat in a real browser: two people, one message, seen by the other.
    browser = await launchChromium();
    const alice = await openUser(browser, url);
    const bob = await openUser(browser, url);
    await signUp(alice.page, "alice", "Alice");
    await signUp(bob.page, "bob", "Bob");
    await startDirectChat(alice.page, "bo", "Bob");
    await send(alice.page, "Hello from a fresh clone");
    const bobChat = bob.page.getByTestId("chat-item").filter({ hasText: "Alice" });
    await bobChat.waitFor({ timeout: timing.ms(30_000) });
    await bobChat.click();
    await readUntil(
      "Bob sees Alice's message",
      () => bodies(bob.page),
      (b) => b.join("|") === "Hello from a fresh clone",
    );
    expect(alice.errors).toEqual([]);
    expect(bob.errors).toEqual([]);
    await browser.close();
    browser = undefined;

    // The README's local tools, with no flags, find the running stack.
    const dlq = await runCommand("npm run dlq -- list inbound", { cwd: tree, env: newcomerEnv() });
    expect(dlq).toMatchObject({ code: 0, stderr: "" });
    expect(dlq.stdout).toMatch(/inbound/);
    const smoke = await runCommand("npm run smoke", { cwd: tree, env: newcomerEnv() });
    expect(smoke).toMatchObject({ code: 0, stderr: "" });
    expect(smoke.stdout).toMatch(/smoke test passed/);

    // Ctrl-C: SIGINT to the foreground process group, as a terminal does.
    const everyone = processTree(shell.pid!);
    expect(everyone.length).toBeGreaterThan(4); // npm, the launcher, emulators, persister, gateway
    const stopAt = Date.now();
    process.kill(-shell.pid!, "SIGINT");
    const [code, signal] = await once(shell, "exit");
    await waitUntil(() => everyone.every((pid) => !alive(pid)), {
      timeoutMs: 10_000,
      intervalMs: 50,
      what: "every process of npm start gone after Ctrl-C",
    });
    const stopMs = Date.now() - stopAt;
    // npm answers a Ctrl-C by ending with it (130, or the signal itself) after its script finished.
    expect(code === 130 || signal === "SIGINT").toBe(true);
    expect(out).toContain("Stopped.");
    // Quiet: no warnings on a normal start, and nothing retried against emulators stopped too early.
    expect(out).not.toMatch(/warning/i);
    expect(out).not.toMatch(/ECONNREFUSED|retrying/i);
    expect(existsSync(path.join(tree, "data/local-stack.json"))).toBe(false);
    console.log(`first run: URL printed after ${urlMs} ms (web build included); Ctrl-C → all gone in ${stopMs} ms`);
  });
});
