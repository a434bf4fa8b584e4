/**
 * The conversation log's entry kinds across two gateways (issue 16), against a whole local stack: Alice on gw-1,
 * Bob on gw-2. Replies, edits, deletes, reactions, membership and title changes — each live, in history, and
 * replayed by `sync` after a reconnect in seq order without gaps; resends stored once (also through the other
 * gateway); every refusal's code; and a deleted message's bodies read straight from the messages table.
 * The edit window is a few seconds here (PARLEY_EDIT_WINDOW_SECONDS, for the gateways and the persister alike):
 * every other edit is made within it, and one test waits it out.
 */
import { env } from "../../runtime/contracts";
import { previewOf } from "../../runtime/contracts/api";
import { api, type Client, type Frame } from "../support/clients";
import {
  accepted,
  chatList,
  commit,
  conversationItem,
  createDirect,
  createGroup,
  enqueueRaw,
  entryAt,
  exchange,
  fullHistory,
  isEntry,
  messageItems,
  persisterLogFor,
  request,
} from "../support/chat";
import { localStackSuite } from "../support/local-stack";
import { timing, waitUntil } from "../support/timing";
import { bulkUsers, type TestUser } from "../support/users";

jest.setTimeout(60_000);

const EDIT_WINDOW_SECONDS = 5;
const EDIT_WINDOW_ENV = { [env.editWindowSeconds]: String(EDIT_WINDOW_SECONDS) };

const suite = localStackSuite({
  gateways: 2,
  inMemory: true,
  // The limit test sends 20 reactions back to back.
  gatewayEnv: { ...EDIT_WINDOW_ENV, [env.rateLimitPerSecond]: "200", [env.rateLimitBurst]: "400" },
  runnerEnv: EDIT_WINDOW_ENV,
});

/** Distinct single-pictograph emoji: 21 of them, one past the per-message cap. */
const EMOJI = [..."😀😁😂🤣😃😄😅😆😉😊😋😎😍😘🥰😗😙😚🙂🤗🤩"];

let counter = 0;
const cmid = (stem: string) => `${stem}-${(counter++).toString(36)}`;

const msg = (conversationId: string, body: string, extra: Record<string, unknown> = {}) => ({
  type: "send",
  conversationId,
  clientMessageId: cmid("m"),
  body,
  ...extra,
});
const edit = (conversationId: string, seq: number, body: string) => ({
  type: "edit",
  conversationId,
  clientMessageId: cmid("e"),
  seq,
  body,
});
const del = (conversationId: string, seq: number) => ({
  type: "delete",
  conversationId,
  clientMessageId: cmid("d"),
  seq,
});
const react = (conversationId: string, seq: number, emoji: string, on: boolean) => ({
  type: "react",
  conversationId,
  clientMessageId: cmid("r"),
  seq,
  emoji,
  on,
});

const users = (n: number) => bulkUsers(suite.stack, "cd", n);

/** Alice (creator, on gw-1) and Bob (on gw-2) in a new group, with `extra` more members who are not connected. */
async function group(extra = 0) {
  const [alice, bob, ...others] = (await users(2 + extra)) as [TestUser, TestUser, ...TestUser[]];
  const id = await createGroup(suite.gw(0), alice, [bob, ...others], "depth");
  const a = await suite.connect(0, alice, "alice@gw-1");
  const b = await suite.connect(1, bob, "bob@gw-2");
  return { alice, bob, others, id, a, b };
}

const sorted = (...us: TestUser[]) => us.map((u) => u.userId).sort();
const bySeq = (entries: { seq: number }[]) => new Map(entries.map((e) => [e.seq, e as Record<string, unknown>]));
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

function expectRefused(answer: Frame | undefined, code: string, sent: Record<string, unknown>) {
  expect(answer).toMatchObject({
    type: "error",
    code,
    ref: { type: sent.type, clientMessageId: sent.clientMessageId, conversationId: sent.conversationId },
  });
}

describe("each entry kind, live across gateways and in history", () => {
  it("reply: the quoted preview travels with it; a reply to a deleted message shows deleted", async () => {
    const { alice, bob, id, a, b } = await group();
    const long = `${"q".repeat(100)} and then text beyond the preview's 120 characters, which it cuts`;
    const quoted = await commit(a, msg(id, long));
    const reply = await commit(b, msg(id, "a reply", { replyTo: quoted.seq }));
    const quote = { seq: quoted.seq, senderId: alice.userId, preview: previewOf(long) };
    expect(reply.replyTo).toEqual(quote);
    expect(await entryAt(a, id, reply.seq)).toMatchObject({ type: "message", senderId: bob.userId, replyTo: quote });
    const before = bySeq((await fullHistory(suite.gw(0), alice.token, id)).entries);
    expect(before.get(reply.seq)!.replyTo).toEqual(quote);

    const gone = await commit(a, del(id, quoted.seq));
    await entryAt(b, id, gone.seq);
    // Replying to the deleted message still works, and shows it deleted (no preview).
    const late = await commit(b, msg(id, "replying to what is gone", { replyTo: quoted.seq }));
    const tombstone = { seq: quoted.seq, senderId: alice.userId, deleted: true };
    expect(late.replyTo).toEqual(tombstone);
    expect((await entryAt(a, id, late.seq)).replyTo).toEqual(tombstone);
    for (const [i, u] of [alice, bob].entries()) {
      const after = bySeq((await fullHistory(suite.gw(i), u.token, id)).entries);
      expect(after.get(reply.seq)!.replyTo).toEqual(tombstone);
      expect(after.get(late.seq)!.replyTo).toEqual(tombstone);
    }
  });

  it("edit: Bob receives each edit on the other gateway; history shows the latest body, editedAt and rev", async () => {
    const { alice, bob, id, a, b } = await group();
    const m = await commit(a, msg(id, "first draft"));
    const e1 = await commit(a, edit(id, m.seq, "second draft"));
    const e2 = await commit(a, edit(id, m.seq, "final"));
    expect([e1.seq, e2.seq]).toEqual([m.seq + 1, m.seq + 2]);
    for (const [e, body] of [
      [e1, "second draft"],
      [e2, "final"],
    ] as const) {
      expect(await entryAt(b, id, e.seq)).toMatchObject({
        type: "event",
        kind: "edit",
        target: m.seq,
        body,
        senderId: alice.userId,
        clientMessageId: e.clientMessageId,
      });
    }
    for (const [i, u] of [alice, bob].entries()) {
      const h = await fullHistory(suite.gw(i), u.token, id);
      expect(h.entries.map((e) => e.seq)).toEqual([m.seq, e1.seq, e2.seq]);
      const [stored, first, second] = h.entries;
      expect(stored).toMatchObject({ seq: m.seq, senderId: alice.userId, body: "final", rev: e2.seq });
      expect(stored.edits).toEqual([e1.seq, e2.seq]);
      expect(stored.editedAt).toEqual(expect.any(Number));
      expect(stored.editedAt).toBeGreaterThanOrEqual(stored.sentAt);
      expect(stored.deleted).toBeUndefined();
      expect(first).toMatchObject({ kind: "edit", target: m.seq, body: "second draft" });
      expect(second).toMatchObject({ kind: "edit", target: m.seq, body: "final" });
    }
  });

  it("delete: a tombstone for everyone, live and in history", async () => {
    const { alice, bob, id, a, b } = await group();
    const m = await commit(a, msg(id, "regrettable"));
    const reply = await commit(b, msg(id, "quoting it", { replyTo: m.seq }));
    const gone = await commit(a, del(id, m.seq));
    expect(await entryAt(b, id, gone.seq)).toMatchObject({
      type: "event",
      kind: "delete",
      target: m.seq,
      senderId: alice.userId,
    });
    for (const [i, u] of [alice, bob].entries()) {
      const h = bySeq((await fullHistory(suite.gw(i), u.token, id)).entries);
      expect(h.get(m.seq)).toMatchObject({
        seq: m.seq,
        senderId: alice.userId,
        deleted: true,
        body: "",
        rev: gone.seq,
      });
      expect(h.get(reply.seq)).toMatchObject({ body: "quoting it", replyTo: { seq: m.seq, deleted: true } });
      expect(h.get(gone.seq)).toMatchObject({ kind: "delete", target: m.seq });
    }
    // The conversation goes on.
    const next = await commit(b, msg(id, "moving on"));
    expect(next.seq).toBe(gone.seq + 1);
  });

  it("react: counts and who in history; a resend changes nothing; on twice is still one reaction", async () => {
    const { alice, bob, id, a, b } = await group();
    const m = await commit(a, msg(id, "react to me"));
    const thumbs = react(id, m.seq, "👍", true);
    const first = await commit(b, thumbs);
    expect(await entryAt(a, id, first.seq)).toMatchObject({
      type: "event",
      kind: "react",
      target: m.seq,
      emoji: "👍",
      on: true,
      senderId: bob.userId,
    });
    // The same frame again, as after a lost answer, on Bob's gateway and on the other one.
    await accepted(b, thumbs);
    const bobOnGw1 = await suite.connect(0, bob, "bob@gw-1");
    await accepted(bobOnGw1, thumbs);
    await commit(a, react(id, m.seq, "👍", true));
    // On again under a new clientMessageId: Bob still reacted once.
    await accepted(b, react(id, m.seq, "👍", true));
    const party = await commit(b, react(id, m.seq, "🎉", true));
    await entryAt(a, id, party.seq);

    let h = await fullHistory(suite.gw(0), alice.token, id);
    let stored = h.entries.find((e) => e.seq === m.seq);
    // Counts and who (the order is checked last, below).
    expect(Object.keys(stored.reactions).sort()).toEqual(["🎉", "👍"].sort());
    expect([...stored.reactions["👍"]].sort()).toEqual(sorted(alice, bob));
    expect(stored.reactions["🎉"]).toEqual([bob.userId]);
    const thumbsOrder = stored.reactions["👍"];
    expect(h.entries.filter((e) => e.clientMessageId === thumbs.clientMessageId)).toHaveLength(1);

    const offFrame = react(id, m.seq, "👍", false);
    const off = await commit(b, offFrame);
    expect(await entryAt(a, id, off.seq)).toMatchObject({
      kind: "react",
      emoji: "👍",
      on: false,
      senderId: bob.userId,
    });
    await accepted(b, offFrame);
    // Stored after everything above (one FIFO group per conversation): history now has all of it.
    const barrier = await commit(a, msg(id, "barrier"));
    h = await fullHistory(suite.gw(1), bob.token, id);
    stored = h.entries.find((e) => e.seq === m.seq);
    expect(stored.reactions["👍"]).toEqual([alice.userId]);
    expect(stored.reactions["🎉"]).toEqual([bob.userId]);
    expect(stored.rev).toBe(off.seq);
    expect(h.entries.filter((e) => e.clientMessageId === offFrame.clientMessageId)).toHaveLength(1);
    expect(h.entries.map((e) => e.seq)).toEqual(range(1, barrier.seq));
    // "In the order they did" (messages.ts): Bob reacted first; his second `on` changed nothing, not even that.
    expect(thumbsOrder).toEqual([bob.userId, alice.userId]);
  });

  it("add, rename, leave: every member is told; chat lists, history and read positions follow", async () => {
    const { alice, bob, id, a, b } = await group();
    const [carol] = (await users(1)) as [TestUser];
    const first = await commit(a, msg(id, "before carol"));
    const c1 = await suite.connect(0, carol, "carol@gw-1");
    const c = await suite.connect(1, carol, "carol@gw-2");
    // Not a member yet: refused on both gateways (so each has looked the conversation up, without her in it).
    for (const [i, s] of [c1, c].entries()) {
      const knock = msg(id, "let me in");
      expectRefused(await request(s, knock), "NOT_MEMBER", knock);
      const early = await api(
        suite.gw(i),
        "GET",
        `/api/conversations/${encodeURIComponent(id)}/messages`,
        undefined,
        carol.token,
      );
      expect([`gw-${i + 1}`, early.status]).toEqual([`gw-${i + 1}`, 403]);
    }

    const add = await commit(a, {
      type: "addMembers",
      conversationId: id,
      clientMessageId: cmid("add"),
      userIds: [carol.userId],
    });
    for (const s of [b, c1, c]) {
      expect(await entryAt(s, id, add.seq)).toMatchObject({
        type: "event",
        kind: "add",
        userIds: [carol.userId],
        senderId: alice.userId,
      });
    }
    // A member on both gateways at once: the chat list, the whole history, her read position at the add, writing.
    for (const i of [0, 1]) {
      const row = (await chatList(suite.gw(i), carol)).find((x) => x.conversationId === id);
      expect(row).toMatchObject({ memberIds: sorted(alice, bob, carol), lastReadSeq: add.seq, unread: 0 });
      const seen = await api(
        suite.gw(i),
        "GET",
        `/api/conversations/${encodeURIComponent(id)}/messages`,
        undefined,
        carol.token,
      );
      expect([`gw-${i + 1}`, seen.status]).toEqual([`gw-${i + 1}`, 200]);
      expect(seen.body.messages.map((e: { seq: number }) => e.seq)).toEqual([first.seq, add.seq]);
      expect(seen.body.messages[0]).toMatchObject({ body: "before carol" });
      expect(seen.body.readPositions[carol.userId]).toBe(add.seq);
      // An older page carries no read positions: the latest one did.
      const older = await api(
        suite.gw(i),
        "GET",
        `/api/conversations/${encodeURIComponent(id)}/messages?before=${add.seq}`,
        undefined,
        carol.token,
      );
      expect([older.status, older.body.messages.length, older.body.readPositions]).toEqual([200, 1, undefined]);
    }
    for (const [i, s] of [c1, c].entries()) {
      const hers = await request(s, msg(id, `hi all, from gw-${i + 1}`));
      expect([`gw-${i + 1}`, hers?.type, hers?.code]).toEqual([`gw-${i + 1}`, "accepted", undefined]);
      await a.waitFor((f) => isEntry(f, id) && f.senderId === carol.userId && f.body === `hi all, from gw-${i + 1}`);
    }

    const renamed = await commit(b, {
      type: "rename",
      conversationId: id,
      clientMessageId: cmid("t"),
      title: "Renamed",
    });
    for (const s of [a, c]) {
      expect(await entryAt(s, id, renamed.seq)).toMatchObject({
        kind: "rename",
        title: "Renamed",
        senderId: bob.userId,
      });
    }
    expect((await chatList(suite.gw(0), alice)).find((x) => x.conversationId === id)).toMatchObject({
      title: "Renamed",
    });

    const left = await commit(c, { type: "leave", conversationId: id, clientMessageId: cmid("l") });
    for (const s of [a, b, c1]) {
      expect(await entryAt(s, id, left.seq)).toMatchObject({ type: "event", kind: "leave", senderId: carol.userId });
    }
    expect((await chatList(suite.gw(0), alice)).find((x) => x.conversationId === id)).toMatchObject({
      memberIds: sorted(alice, bob),
      title: "Renamed",
    });
    expect((await chatList(suite.gw(1), carol)).map((x) => x.conversationId)).not.toContain(id);
    for (const s of [c1, c]) {
      const after = msg(id, "still here?");
      expectRefused(await request(s, after), "NOT_MEMBER", after);
    }
    const h = await fullHistory(suite.gw(0), alice.token, id);
    expect(h.entries.map((e) => e.seq)).toEqual(range(1, left.seq));
  });
});

describe("resume after missing them", () => {
  it("sync replays edits, deletes, reactions, membership and title changes in seq order, gap-free, then synced", async () => {
    const { alice, bob, others, id, a, b } = await group(1);
    const carol = others[0]!;
    const [dave] = (await users(1)) as [TestUser];
    const c = await suite.connect(1, carol, "carol@gw-2");
    const m1 = await commit(a, msg(id, "one"));
    const m2 = await commit(a, msg(id, "two"));
    await entryAt(b, id, m2.seq);
    const lastSeen = Math.max(...b.frames.filter((f) => isEntry(f, id)).map((f) => f.seq as number));
    expect(lastSeen).toBe(m2.seq);
    await b.close();

    const m3 = await commit(a, msg(id, "three"));
    const e3 = await commit(a, edit(id, m3.seq, "three, edited"));
    const d1 = await commit(a, del(id, m1.seq));
    const r2 = await commit(a, react(id, m2.seq, "🎉", true));
    const add = await commit(a, {
      type: "addMembers",
      conversationId: id,
      clientMessageId: cmid("add"),
      userIds: [dave.userId],
    });
    const ren = await commit(a, { type: "rename", conversationId: id, clientMessageId: cmid("t"), title: "Resumed" });
    const rm = await commit(a, {
      type: "removeMember",
      conversationId: id,
      clientMessageId: cmid("rm"),
      userId: dave.userId,
    });
    const left = await commit(c, { type: "leave", conversationId: id, clientMessageId: cmid("l") });
    const m9 = await commit(a, msg(id, "nine"));

    // Back, on the other gateway.
    const back = await suite.connect(0, bob, "bob-again@gw-1");
    back.send({ type: "sync", cursors: [{ conversationId: id, afterSeq: lastSeen }] });
    const synced = await back.waitFor((f) => f.type === "synced", timing.ms(15_000), "synced");
    const replay = back.frames.slice(0, back.frames.indexOf(synced)).filter((f) => isEntry(f, id));
    expect(replay.map((f) => f.seq)).toEqual(range(lastSeen + 1, m9.seq));
    expect(replay.map((f) => (f.type === "message" ? "message" : f.kind))).toEqual([
      "message",
      "edit",
      "delete",
      "react",
      "add",
      "rename",
      "remove",
      "leave",
      "message",
    ]);
    const [r3, re3, rd1, rr2, radd, rren, rrm, rleft, r9] = replay as Frame[];
    // A message comes in its current state, with the seq of the last entry applied to it.
    expect(r3).toMatchObject({ type: "message", seq: m3.seq, body: "three, edited", rev: e3.seq });
    expect(r3!.editedAt).toEqual(expect.any(Number));
    expect(re3).toMatchObject({ type: "event", seq: e3.seq, kind: "edit", target: m3.seq, body: "three, edited" });
    expect(rd1).toMatchObject({ type: "event", seq: d1.seq, kind: "delete", target: m1.seq, senderId: alice.userId });
    expect(rr2).toMatchObject({ seq: r2.seq, kind: "react", target: m2.seq, emoji: "🎉", on: true });
    expect(radd).toMatchObject({ seq: add.seq, kind: "add", userIds: [dave.userId] });
    expect(rren).toMatchObject({ seq: ren.seq, kind: "rename", title: "Resumed" });
    expect(rrm).toMatchObject({ seq: rm.seq, kind: "remove", userId: dave.userId, senderId: alice.userId });
    expect(rleft).toMatchObject({ seq: left.seq, kind: "leave", senderId: carol.userId });
    expect(r9).toMatchObject({ type: "message", seq: m9.seq, body: "nine" });
    expect(synced.cursors).toEqual([{ conversationId: id, lastSeq: m9.seq }]);

    // A sync from the start shows the earlier messages in their current state too.
    back.send({ type: "sync", cursors: [{ conversationId: id, afterSeq: 0 }] });
    const again = await back.next((f) => f.type === "synced", timing.ms(15_000), "second synced");
    const all = back.frames
      .slice(back.frames.indexOf(synced) + 1, back.frames.indexOf(again))
      .filter((f) => isEntry(f, id));
    expect(all.map((f) => f.seq)).toEqual(range(1, m9.seq));
    expect(all[0]).toMatchObject({ seq: m1.seq, deleted: true, body: "", rev: d1.seq });
    expect(all[1]!.reactions).toEqual({ "🎉": [alice.userId] });
  });
});

describe("idempotent resends", () => {
  it("the same clientMessageId twice, and again on the other gateway, is stored once (send, edit, react)", async () => {
    const { alice, bob, id, a, b } = await group();
    const a2 = await suite.connect(1, alice, "alice@gw-2");
    const frame = msg(id, "only once");
    const ex = await exchange(a, [frame, frame]);
    expect([ex.answer(0)?.type, ex.answer(1)?.type]).toEqual(["accepted", "accepted"]);
    await accepted(a2, frame);
    const m = await entryAtBy(a, id, frame.clientMessageId);

    const e = edit(id, m.seq, "edited once");
    await accepted(a, e);
    await accepted(a2, e);
    const r = react(id, m.seq, "👍", true);
    await accepted(a2, r);
    await accepted(a, r);
    const barrier = await commit(b, msg(id, "after the resends"));
    await entryAt(a, id, barrier.seq);

    const h = await fullHistory(suite.gw(1), bob.token, id);
    expect(h.entries.map((x) => x.seq)).toEqual([1, 2, 3, 4]);
    expect(h.entries.map((x) => x.clientMessageId)).toEqual([
      frame.clientMessageId,
      e.clientMessageId,
      r.clientMessageId,
      barrier.clientMessageId,
    ]);
    expect(h.entries[0]).toMatchObject({ body: "edited once", reactions: { "👍": [alice.userId] } });
    // Live: one seq per entry, on both gateways.
    await entryAt(b, id, barrier.seq);
    for (const s of [a, b, a2]) {
      const seqs = s.frames.filter((f) => isEntry(f, id)).map((f) => f.seq as number);
      expect([...new Set(seqs)].sort((x, y) => x - y)).toEqual([1, 2, 3, 4]);
    }
  });
});

describe("idempotent resends of a delete", () => {
  it("a delete resent after it was stored is accepted again, on either gateway, and stores nothing more", async () => {
    const { alice, bob, id, a, b } = await group();
    const m = await commit(a, msg(id, "to be deleted"));
    const d = del(id, m.seq);
    const stored = await commit(a, d);
    // The client never saw `accepted` (say the socket dropped): it resends the same frame, here and elsewhere.
    await accepted(a, d);
    const a2 = await suite.connect(1, alice, "alice@gw-2");
    await accepted(a2, d);
    // Anyone else's delete of it is refused as ever (the message is gone).
    const other = { ...del(id, m.seq), clientMessageId: "someone-else" };
    expectRefused(await request(b, other), "GONE", other);
    const barrier = await commit(a, msg(id, "after"));
    const h = await fullHistory(suite.gw(1), bob.token, id);
    expect(h.entries.map((x) => [x.seq, x.kind ?? "message"])).toEqual([
      [m.seq, "message"],
      [stored.seq, "delete"],
      [barrier.seq, "message"],
    ]);
  });
});

/** The stored message `c`'s own user sent with `clientMessageId`, as it came back to `c`. */
function entryAtBy(c: Client, conversationId: string, clientMessageId: string): Promise<Frame> {
  return c.waitFor(
    (f) => isEntry(f, conversationId) && f.clientMessageId === clientMessageId && f.senderId === c.ready.userId,
    timing.ms(15_000),
    `${conversationId} ${clientMessageId}`,
  );
}

describe("refusals", () => {
  it("a non-sender's edit or delete is FORBIDDEN; changes to a deleted message are GONE", async () => {
    const { alice, id, a, b } = await group();
    const m = await commit(a, msg(id, "alice's own"));
    await entryAt(b, id, m.seq);
    for (const f of [edit(id, m.seq, "bob was here"), del(id, m.seq)]) {
      expectRefused(await request(b, f), "FORBIDDEN", f);
    }
    const gone = await commit(a, del(id, m.seq));
    await entryAt(b, id, gone.seq);
    for (const f of [edit(id, m.seq, "too late"), del(id, m.seq)]) expectRefused(await request(a, f), "GONE", f);
    const r = react(id, m.seq, "👍", true);
    expectRefused(await request(b, r), "GONE", r);
    // Nothing refused was stored.
    const h = await fullHistory(suite.gw(0), alice.token, id);
    expect(h.entries.map((e) => e.seq)).toEqual([m.seq, gone.seq]);
    expect(h.entries[0]).toMatchObject({ deleted: true, body: "" });
  });

  it("a target seq that is not a message is NOT_FOUND, and so is adding a user who does not exist", async () => {
    const { id, a, b } = await group();
    const m = await commit(a, msg(id, "a message"));
    const ren = await commit(a, { type: "rename", conversationId: id, clientMessageId: cmid("t"), title: "x" });
    const frames = [
      edit(id, 999, "nobody"),
      del(id, 999),
      react(id, 999, "👍", true),
      msg(id, "replying to nothing", { replyTo: 999 }),
      // The rename is an entry, not a message.
      edit(id, ren.seq, "not a message"),
      react(id, ren.seq, "👍", true),
      { type: "addMembers", conversationId: id, clientMessageId: cmid("add"), userIds: ["no_such_user_here"] },
    ];
    for (const f of frames) expectRefused(await request(b, f), "NOT_FOUND", f);
    const e = edit(id, ren.seq, "not a message");
    expectRefused(await request(a, e), "NOT_FOUND", e);
    expect(m.seq).toBe(1);
  });

  it("an edit after the edit window is EDIT_WINDOW_CLOSED; a delete is still allowed", async () => {
    const { alice, bob, id, a, b } = await group();
    const m = await commit(a, msg(id, "soon frozen"));
    await waitUntil(() => Date.now() > (m.sentAt as number) + EDIT_WINDOW_SECONDS * 1000 + 500, {
      timeoutMs: timing.ms(EDIT_WINDOW_SECONDS * 1000 + 10_000),
      intervalMs: 100,
      what: "the edit window passes",
    });
    const late = edit(id, m.seq, "thawed?");
    expectRefused(await request(a, late), "EDIT_WINDOW_CLOSED", late);
    // The persister has the same window: an edit put straight on the queue now (as a gateway without the
    // setting would have) is refused there, not stored.
    const queued = await enqueueRaw(suite.stack, {
      v: 1,
      kind: "edit",
      conversationId: id,
      senderId: alice.userId,
      clientMessageId: cmid("e"),
      target: m.seq,
      body: "thawed behind the gateway's back",
      sentAt: Date.now(),
    });
    expect(await persisterLogFor(suite.stack, queued)).toMatchObject({
      poison: true,
      reason: expect.stringMatching(/^EDIT_WINDOW_CLOSED: /),
    });
    const gone = await commit(a, del(id, m.seq));
    await entryAt(b, id, gone.seq);
    const h = await fullHistory(suite.gw(1), bob.token, id);
    expect(h.entries.map((e) => e.seq)).toEqual([m.seq, gone.seq]);
  });

  it(`the ${EMOJI.length}st distinct emoji on a message is LIMIT_REACHED; an emoji already there is not`, async () => {
    const { alice, bob, id, a, b } = await group();
    const m = await commit(a, msg(id, "popular"));
    const twenty = EMOJI.slice(0, 20).map((e) => react(id, m.seq, e, true));
    const ex = await exchange(a, twenty);
    expect(twenty.map((_, i) => ex.answer(i)?.type)).toEqual(twenty.map(() => "accepted"));
    await entryAtBy(a, id, twenty.at(-1)!.clientMessageId);
    const one = react(id, m.seq, EMOJI[20]!, true);
    expectRefused(await request(b, one), "LIMIT_REACHED", one);
    const same = await commit(b, react(id, m.seq, EMOJI[0]!, true));
    const h = await fullHistory(suite.gw(1), bob.token, id);
    const stored = h.entries.find((e) => e.seq === m.seq);
    expect(Object.keys(stored.reactions).sort()).toEqual(EMOJI.slice(0, 20).sort());
    expect(stored.reactions[EMOJI[0]!]).toEqual([alice.userId, bob.userId]);
    expect(stored.rev).toBe(same.seq);
  });

  it("a direct chat's members and title are fixed: addMembers, removeMember, rename, leave are FORBIDDEN", async () => {
    const [alice, bob, carol] = (await users(3)) as [TestUser, TestUser, TestUser];
    const id = await createDirect(suite.gw(0), alice, bob);
    const a = await suite.connect(0, alice, "alice@gw-1");
    const b = await suite.connect(1, bob, "bob@gw-2");
    const frames = (who: TestUser) => [
      { type: "addMembers", conversationId: id, clientMessageId: cmid("add"), userIds: [carol.userId] },
      { type: "removeMember", conversationId: id, clientMessageId: cmid("rm"), userId: who.userId },
      { type: "rename", conversationId: id, clientMessageId: cmid("t"), title: "ours" },
      { type: "leave", conversationId: id, clientMessageId: cmid("l") },
    ];
    for (const [s, other] of [
      [a, bob],
      [b, alice],
    ] as const) {
      for (const f of frames(other)) expectRefused(await request(s, f), "FORBIDDEN", f);
    }
    const m = await commit(a, msg(id, "still just us"));
    expect(m.seq).toBe(1);
    expect((await chatList(suite.gw(1), bob)).find((x) => x.conversationId === id)).toMatchObject({
      memberIds: sorted(alice, bob),
    });
  });

  it("removeMember by a non-creator is FORBIDDEN; the creator removing a non-member is NOT_FOUND", async () => {
    const { alice, bob, others, id, a, b } = await group(1);
    const carol = others[0]!;
    const [dave] = (await users(1)) as [TestUser];
    const byBob = { type: "removeMember", conversationId: id, clientMessageId: cmid("rm"), userId: carol.userId };
    expectRefused(await request(b, byBob), "FORBIDDEN", byBob);
    const self = { type: "removeMember", conversationId: id, clientMessageId: cmid("rm"), userId: alice.userId };
    expectRefused(await request(b, self), "FORBIDDEN", self);
    const ghost = { type: "removeMember", conversationId: id, clientMessageId: cmid("rm"), userId: dave.userId };
    expectRefused(await request(a, ghost), "NOT_FOUND", ghost);
    const m = await commit(a, msg(id, "all still here"));
    expect(m.seq).toBe(1);
    expect((await chatList(suite.gw(1), carol)).find((x) => x.conversationId === id)).toMatchObject({
      memberIds: sorted(alice, bob, carol),
    });
  });
});

describe("a deleted message's bodies in the messages table", () => {
  it("are erased: the message and its edits keep body '', the text is nowhere in the conversation's items", async () => {
    const { alice, id, a, b } = await group();
    const texts = ["zebra original 7f3a", "zebra edited 91cc", "zebra edited again 04be"];
    const m = await commit(a, msg(id, texts[0]!));
    const reply = await commit(b, msg(id, "what a thing to say", { replyTo: m.seq }));
    const e1 = await commit(a, edit(id, m.seq, texts[1]!));
    const e2 = await commit(a, edit(id, m.seq, texts[2]!));
    // Before the delete the table holds the edits' bodies (the message item the latest; the original went with
    // the first edit), so the check below is not vacuous.
    const before = JSON.stringify(await messageItems(suite.stack.aws, id));
    for (const t of texts.slice(1)) expect(before).toContain(t);

    const gone = await commit(a, del(id, m.seq));
    await entryAt(b, id, gone.seq);
    const items = await messageItems(suite.stack.aws, id);
    const bySeqItems = bySeq(items as { seq: number }[]);
    expect([...bySeqItems.keys()].sort((x, y) => x - y)).toEqual([m.seq, reply.seq, e1.seq, e2.seq, gone.seq]);
    expect(bySeqItems.get(m.seq)).toMatchObject({ deleted: true, body: "", senderId: alice.userId });
    expect(bySeqItems.get(e1.seq)).toMatchObject({ kind: "edit", body: "" });
    expect(bySeqItems.get(e2.seq)).toMatchObject({ kind: "edit", body: "" });
    expect(bySeqItems.get(reply.seq)).toMatchObject({ body: "what a thing to say" });
    const after = JSON.stringify(items);
    for (const t of texts) expect(after).not.toContain(t);
    expect(after).not.toContain("zebra");
    expect(JSON.stringify(await conversationItem(suite.stack.aws, id))).not.toContain("zebra");
    // And what the API serves says the same.
    const h = await fullHistory(suite.gw(0), alice.token, id);
    expect(JSON.stringify(h.entries)).not.toContain("zebra");
  });
});
