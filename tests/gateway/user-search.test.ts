/**
 * GET /api/users against the emulators: a username prefix, a display-name word prefix with diacritics folded,
 * and the browse list paged in name order. The gateway's DynamoDB client fails any Scan, and every command it
 * sends is recorded, so "no scan" is checked, not assumed.
 */
import { QueryCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { createUser } from "../../runtime/store/users";
import { userNameItems, MAX_WORD_ITEMS } from "../../runtime/store/user-names";
import { api } from "../support/clients";
import { startEmulated, type Emulated } from "../support/emulated";
import { inProcessGateways, type InProcessGateway } from "../support/in-process";
import { mintToken, uniqueName } from "../support/users";
import { type DocumentClient } from "../../runtime/aws/document-client";

jest.setTimeout(60_000);

let em: Emulated;
let gw: InProcessGateway;
let token: string;
const sent: string[] = [];

/** The client the gateway gets: records each command's name and refuses scans. */
function noScans(real: DocumentClient): DocumentClient {
  const send = (cmd: { constructor: { name: string } }) => {
    sent.push(cmd.constructor.name);
    if (cmd instanceof ScanCommand) throw new Error("the user routes must not scan");
    return real.send(cmd as QueryCommand);
  };
  return new Proxy(real, { get: (t, p, r) => (p === "send" ? send : Reflect.get(t, p, r)) });
}

const people: [string, string][] = [
  ["bob", "Bob Builder"],
  ["thebuilder", "The Builder"],
  ["zoe", "Zoë Ångström-Édith"],
  ["builderfan", "Carol"],
  ["dave", "Dave"],
  ["anna", "Anna Maria de la Cruz"],
];

const ids = (body: { users: { userId: string }[] }) => body.users.map((u) => u.userId);
const search = (q: string) => api(gw.url, "GET", `/api/users?${q}`, undefined, token);

beforeAll(async () => {
  em = await startEmulated();
  const gateways = inProcessGateways(em);
  gw = await gateways.start({ wrapClients: { ddb: noScans } });
  for (const [userId, displayName] of people) {
    await createUser(em.db, { userId, displayName, passwordHash: "scrypt$disabled", createdAt: Date.now() });
  }
  // The caller's display name is one word: a generated id's random part is a second word ("me_de00090" matched
  // prefix=de once in CI).
  const me = uniqueName("me");
  await createUser(em.db, { userId: me, displayName: "me", passwordHash: "scrypt$disabled", createdAt: Date.now() });
  token = mintToken(gateways.jwtSecret, me);
});

afterAll(async () => {
  await gw?.stop();
  await em?.close();
});

beforeEach(() => (sent.length = 0));

describe("GET /api/users", () => {
  it("finds a later word of a display name, username matches first, and never scans", async () => {
    const r = await search("prefix=Builder");
    expect(r.status).toBe(200);
    // builderfan by username; then Bob Builder and The Builder by a word, in name order.
    expect(ids(r.body)).toEqual(["builderfan", "bob", "thebuilder"]);
    expect(r.body.users[1]).toEqual({ userId: "bob", displayName: "Bob Builder" });
    // Queries for the search; a GetItem for the token's revocation check.
    expect(sent).toContain("QueryCommand");
    expect(sent.filter((c) => c !== "QueryCommand" && c !== "GetCommand")).toEqual([]);
  });

  it("folds diacritics and case on both sides, and matches several words", async () => {
    for (const q of ["zoe", "ZOË", "angst", "ÅNG", "édi", "Zoe\u0308"]) {
      expect([q, ids((await search(`prefix=${encodeURIComponent(q)}`)).body)]).toEqual([q, ["zoe"]]);
    }
    expect(ids((await search("prefix=bob%20bu")).body)).toEqual(["bob"]);
    expect(ids((await search("prefix=bob%20x")).body)).toEqual([]);
    // A word of the name starting with the query is a match; a letter inside a word is not.
    expect(ids((await search("prefix=uilder")).body)).toEqual([]);
  });

  it("indexes the first word and MAX_WORD_ITEMS more: sign-up writes at most that many extra items", async () => {
    expect(userNameItems({ userId: "anna", displayName: "Anna Maria de la Cruz" })).toHaveLength(1 + MAX_WORD_ITEMS);
    expect(userNameItems({ userId: "dave", displayName: "Dave" })).toHaveLength(1);
    expect(ids((await search("prefix=maria")).body)).toEqual(["anna"]);
    expect(ids((await search("prefix=de")).body)).toEqual(["anna"]);
    expect(ids((await search("prefix=cruz")).body)).toEqual([]);
  });

  it("browses everyone in name order, paged, with an exact last page", async () => {
    const seen: string[] = [];
    let after: string | undefined;
    let pages = 0;
    do {
      const r = await search(`limit=3${after ? `&after=${encodeURIComponent(after)}` : ""}`);
      expect(r.status).toBe(200);
      expect(r.body.users.length).toBeLessThanOrEqual(3);
      seen.push(...ids(r.body));
      after = r.body.next;
      pages++;
    } while (after && pages < 10);
    // "me…" is the caller, filed under its display name (its id).
    const me = seen.find((u) => u.startsWith("me"));
    expect(seen).toEqual(["anna", "bob", "builderfan", "dave", me, "thebuilder", "zoe"]);
    expect(pages).toBe(3);
    expect(sent.filter((c) => c !== "QueryCommand" && c !== "GetCommand")).toEqual([]);
  });

  it("keeps its error answers: 400 VALIDATION naming the field", async () => {
    const tooLong = await search(`prefix=${"x".repeat(65)}`);
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error.code).toBe("VALIDATION");
    expect(tooLong.body.error.message).toMatch(/prefix/);
    const pagedSearch = await search("prefix=bob&after=x");
    expect(pagedSearch.status).toBe(400);
    expect(pagedSearch.body.error.message).toMatch(/after/);
    expect((await search("limit=0")).status).toBe(400);
    expect((await api(gw.url, "GET", "/api/users?prefix=bob")).status).toBe(401);
  });
});
