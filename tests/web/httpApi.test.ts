import { ApiError, HttpApi } from "../../web/src/state/api";

interface Sent {
  url: string;
  method: string | undefined;
  headers: Record<string, string>;
  body: unknown;
}

/** An HttpApi over a fetch that records each request and answers with `reply`. */
function setup(reply: () => Response | Promise<Response>, getToken: () => string | undefined = () => "tok") {
  const sent: Sent[] = [];
  const api = new HttpApi(
    getToken,
    async (url, init) => {
      sent.push({
        url,
        method: init?.method,
        headers: { ...(init?.headers as Record<string, string>) },
        body: typeof init?.body === "string" ? JSON.parse(init.body) : init?.body,
      });
      return reply();
    },
    "http://gw",
  );
  return { api, sent };
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

describe("HttpApi builds each call from the shared route table", () => {
  test("signup and login post their body and send no token", async () => {
    const session = { token: "t", user: { userId: "alice", displayName: "Alice" } };
    const { api, sent } = setup(() => json(201, session));
    expect(await api.signup({ username: "alice", password: "correct horse" })).toEqual(session);
    expect(await api.login({ username: "alice", password: "correct horse" })).toEqual(session);
    expect(sent.map((s) => [s.method, s.url])).toEqual([
      ["POST", "http://gw/api/signup"],
      ["POST", "http://gw/api/login"],
    ]);
    for (const s of sent) {
      expect(s.headers).toEqual({ Accept: "application/json", "Content-Type": "application/json" });
      expect(s.body).toEqual({ username: "alice", password: "correct horse" });
    }
  });

  test("authenticated routes carry the bearer token; bodiless ones no content-type", async () => {
    const { api, sent } = setup(() => json(200, { ok: true, user: { userId: "alice", displayName: "A" } }));
    await api.logout();
    expect(await api.me()).toEqual({ userId: "alice", displayName: "A" });
    expect(sent.map((s) => [s.method, s.url])).toEqual([
      ["POST", "http://gw/api/logout"],
      ["GET", "http://gw/api/me"],
    ]);
    for (const s of sent) {
      expect(s.headers).toEqual({ Accept: "application/json", Authorization: "Bearer tok" });
      expect(s.body).toBeUndefined();
    }
  });

  test("no token yet: the call goes out without an Authorization header", async () => {
    const { api, sent } = setup(
      () => json(200, { conversations: [] }),
      () => undefined,
    );
    expect(await api.listConversations()).toEqual([]);
    expect(sent[0]!.headers).toEqual({ Accept: "application/json" });
  });

  test("query strings and path parameters", async () => {
    const { api, sent } = setup(() => json(200, { users: [], messages: [], hasMore: false, presence: [] }));
    await api.searchUsers("al");
    await api.messages("d:al_x:bo_y", { before: 10, limit: 5 });
    await api.messages("g:abc/def", {});
    await api.presence(["alice", "bob"]);
    expect(sent.map((s) => s.url)).toEqual([
      "http://gw/api/users?prefix=al&limit=20",
      "http://gw/api/conversations/d%3Aal_x%3Abo_y/messages?before=10&limit=5",
      "http://gw/api/conversations/g%3Aabc%2Fdef/messages",
      "http://gw/api/presence?userIds=alice%2Cbob",
    ]);
  });

  test("presence of nobody asks nothing", async () => {
    const { api, sent } = setup(() => json(200, { presence: [] }));
    expect(await api.presence([])).toEqual([]);
    expect(sent).toEqual([]);
  });

  test("a created conversation comes back unwrapped", async () => {
    const conversation = { conversationId: "g:abcdefgh", kind: "group", title: "T", memberIds: ["alice"] };
    const { api, sent } = setup(() => json(201, { conversation }));
    expect(await api.createConversation({ kind: "group", title: "T", memberIds: ["bob"] })).toEqual(conversation);
    expect(sent[0]).toMatchObject({ method: "POST", url: "http://gw/api/conversations" });
    expect(sent[0]!.body).toEqual({ kind: "group", title: "T", memberIds: ["bob"] });
  });
});

describe("HttpApi reads the shared error body", () => {
  const failure = async (reply: () => Response | Promise<Response>) =>
    setup(reply)
      .api.me()
      .then(
        () => undefined,
        (err: unknown) => err,
      );

  test("an error body gives the status, code and message", async () => {
    const err = await failure(() => json(409, { error: { code: "CONFLICT", message: "that username is taken" } }));
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 409, code: "CONFLICT", message: "that username is taken" });
  });

  test("a body that is not an error body (a proxy's page) falls back to the status", async () => {
    const err = await failure(() => new Response("<html>Bad Gateway</html>", { status: 502 }));
    expect(err).toMatchObject({ status: 502, code: "HTTP_502", message: "Request failed (502)" });
  });

  test("no answer at all is NETWORK", async () => {
    const err = await failure(() => Promise.reject(new TypeError("fetch failed")));
    expect(err).toMatchObject({ status: 0, code: "NETWORK" });
  });
});
