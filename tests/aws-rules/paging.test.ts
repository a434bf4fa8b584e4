/**
 * DynamoDB ends a Query page at 1 MB of UTF-8 data with LastEvaluatedKey, even below Limit. dynalite never does,
 * so the AWS-rules layer (tests/support/aws-faults.ts) cuts the pages here, and a conversation of long CJK
 * messages (12 KB each in UTF-8, so ~85 fit in 1 MB) is read through history and sync: every message must come
 * back, with hasMore false only at the real end.
 */
import { MAX_BODY_CHARS, type StoredMessage } from "../../runtime/contracts";
import { createConversation } from "../../runtime/store/conversations";
import { MAX_PAGE } from "../../runtime/contracts/api";
import { latestMessage, pageMessages, putMessageIfSlotFree } from "../../runtime/store/messages";
import { listConnectionsByGateway, listConnectionsByUser, putConnection } from "../../runtime/store/connections";
import { listMemberships } from "../../runtime/store/memberships";
import { createUser, searchUsers } from "../../runtime/store/users";
import { api, Client } from "../support/clients";
import { type TestUser } from "../support/users";
import { AwsRules, itemSize, ONE_MB } from "../support/aws-faults";
import { startEmulated, type Emulated } from "../support/emulated";
import { inProcessGateways, type InProcessGateway } from "../support/in-process";
import { newGroupId } from "../support/pipeline";

jest.setTimeout(120_000);

const COUNT = 250;
let em: Emulated;
let rules: AwsRules;
let gw: InProcessGateway;
let alice: TestUser;
let conversationId: string;
const clients: Client[] = [];

// Three UTF-8 bytes per character, no two bodies alike.
const cjk = (i: number) => `${i}:` + "漢字かな한국어".repeat(MAX_BODY_CHARS).slice(0, MAX_BODY_CHARS - 8);

beforeAll(async () => {
  em = await startEmulated();
  rules = new AwsRules(em.provisioned.tableNames);
  const gateways = inProcessGateways(em);
  gw = await gateways.start({ wrapClients: { ddb: (c) => rules.wrap(c) } });
  alice = await gateways.user("alice");
  const bob = await gateways.user("bob");
  conversationId = newGroupId();
  await createConversation(em.db, {
    conversationId,
    kind: "group",
    title: "long",
    memberIds: [alice.userId, bob.userId],
    createdBy: alice.userId,
    createdAt: Date.now(),
  });
  for (let seq = 1; seq <= COUNT; seq += 25) {
    await Promise.all(
      Array.from({ length: Math.min(25, COUNT - seq + 1) }, (_, j) =>
        putMessageIfSlotFree(em.db, {
          conversationId,
          seq: seq + j,
          senderId: alice.userId,
          clientMessageId: `m${seq + j}`,
          body: cjk(seq + j),
          sentAt: Date.now(),
          storedAt: Date.now(),
        }),
      ),
    );
  }
}, 120_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await gw?.stop();
  await em?.close();
});

const seqs = (ms: { seq: number }[]) => ms.map((m) => m.seq);
const oneTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe("the AWS-rules layer", () => {
  it("cuts a Query page at 1 MB of UTF-8 with a LastEvaluatedKey, as AWS does (dynalite alone does not)", async () => {
    const sample = (await latestMessage(em.db, conversationId))!;
    // The body is longer in UTF-8 than in characters: 100 such messages are over 1 MB, 100 × 4000 chars are not.
    expect(itemSize(sample)).toBeGreaterThan(3 * (MAX_BODY_CHARS - 8));
    expect(100 * itemSize(sample)).toBeGreaterThan(ONE_MB);
    const before = rules.stats.pagesCut;
    const wrapped = { ...em.db, ddb: rules.wrap(em.ddb) };
    const page = await pageMessages(wrapped, conversationId, { after: 0, limit: MAX_PAGE });
    expect(rules.stats.pagesCut).toBeGreaterThan(before);
    // The store continued from LastEvaluatedKey: the page is full and says there is more.
    expect(seqs(page.messages)).toEqual(oneTo(MAX_PAGE));
    expect(page.hasMore).toBe(true);
  });
});

describe("a conversation whose pages exceed 1 MB in UTF-8", () => {
  it("history `after` pages return every message, hasMore false only at the end", async () => {
    const got: StoredMessage[] = [];
    let after = 0;
    for (let i = 0; i < 20; i++) {
      const r = await api(
        gw.url,
        "GET",
        `/api/conversations/${conversationId}/messages?after=${after}&limit=100`,
        undefined,
        alice.token,
      );
      expect(r.status).toBe(200);
      got.push(...r.body.messages);
      if (!r.body.hasMore) break;
      after = r.body.messages.at(-1).seq;
    }
    expect(seqs(got)).toEqual(oneTo(COUNT));
    expect(got.every((m) => m.body === cjk(m.seq))).toBe(true);
  });

  it("history `before` pages (newest first) return every message", async () => {
    const got: StoredMessage[] = [];
    let query = "limit=100";
    for (let i = 0; i < 20; i++) {
      const r = await api(
        gw.url,
        "GET",
        `/api/conversations/${conversationId}/messages?${query}`,
        undefined,
        alice.token,
      );
      expect(r.status).toBe(200);
      got.unshift(...r.body.messages);
      if (!r.body.hasMore) break;
      query = `before=${r.body.messages[0].seq}&limit=100`;
    }
    expect(seqs(got)).toEqual(oneTo(COUNT));
  });

  it("sync from seq 0 sends every message and reports the real last seq", async () => {
    const c = await Client.connect(gw.url, alice.token, { name: "alice" });
    clients.push(c);
    c.send({ type: "sync", cursors: [{ conversationId, afterSeq: 0 }] });
    const synced = await c.waitFor((f) => f.type === "synced", 30_000, "synced");
    expect(synced.cursors).toEqual([{ conversationId, lastSeq: COUNT }]);
    expect(seqs(c.messages(conversationId) as never)).toEqual(oneTo(COUNT));
  });
});

describe("listings under pages cut short (a 150-byte page stands in for 1 MB of small items)", () => {
  it("memberships, user search and a user's connections return every item", async () => {
    const tight = new AwsRules(em.provisioned.tableNames, { pageBytes: 150 });
    const db = { ...em.db, ddb: tight.wrap(em.ddb) };
    const stem = `zq${Date.now().toString(36)}`;
    const users: string[] = [];
    for (let i = 0; i < 6; i++) {
      const userId = `${stem}_${i}`;
      users.push(userId);
      await createUser(em.db, { userId, displayName: userId, passwordHash: "scrypt$disabled", createdAt: Date.now() });
    }
    const groups: string[] = [];
    for (let i = 0; i < 6; i++) {
      const id = newGroupId();
      groups.push(id);
      await createConversation(em.db, {
        conversationId: id,
        kind: "group",
        title: id,
        memberIds: [users[0]!, users[1]!],
        createdBy: users[0]!,
        createdAt: Date.now(),
      });
    }
    for (let i = 0; i < 5; i++) {
      await putConnection(em.db, {
        connectionId: `${stem}-c${i}`,
        userId: users[0]!,
        gatewayId: "gw-x",
        internalUrl: "http://127.0.0.1:1",
        connectedAt: Date.now(),
        lastSeen: Date.now(),
        expiresAt: Math.floor(Date.now() / 1000) + 600,
      });
    }
    // Each listing really met a page cut short, and still returned everything.
    const cutDuring = async <T>(read: () => Promise<T>): Promise<T> => {
      const before = tight.stats.pagesCut;
      const out = await read();
      expect(tight.stats.pagesCut).toBeGreaterThan(before);
      return out;
    };
    expect((await cutDuring(() => searchUsers(db, stem, 6))).map((u) => u.userId)).toEqual(users);
    const memberships = await cutDuring(() => listMemberships(db, users[0]!));
    expect(memberships.map((m) => m.conversationId).sort()).toEqual([...groups].sort());
    const connections = await cutDuring(() => listConnectionsByUser(db, users[0]!));
    expect(connections.map((c) => c.connectionId).sort()).toEqual(Array.from({ length: 5 }, (_, i) => `${stem}-c${i}`));
    expect((await cutDuring(() => listConnectionsByGateway(db, "gw-x"))).length).toBe(5);
  });
});
