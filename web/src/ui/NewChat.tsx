import { useEffect, useState, type FormEvent } from "react";
import type { User } from "../state/api";
import type { ChatClient } from "../state/chatClient";
import { useUserSearch } from "./useUserSearch";

interface Props {
  client: Pick<ChatClient, "searchUsers" | "browseUsers" | "createConversation">;
  meId: string;
  onDone: () => void;
}

export function NewChat({ client, meId, onDone }: Props) {
  const [kind, setKind] = useState<"direct" | "group">("direct");
  const [query, setQuery] = useState("");
  const [selected, setSelected] = useState<User[]>([]);
  const [title, setTitle] = useState("");
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  // With an empty search box the panel lists everyone by name, a page at a time.
  const [browse, setBrowse] = useState<{ users: User[]; next?: string }>({ users: [] });

  function browseMore(after?: string) {
    client
      .browseUsers(after)
      .then((page) => setBrowse((b) => ({ users: [...(after ? b.users : []), ...page.users], next: page.next })))
      .catch((err: unknown) => setError(err instanceof Error ? err.message : "Could not list people"));
  }

  useEffect(() => browseMore(), [client]);

  const search = useUserSearch(client, query, setError);
  const results = search.results.filter((u) => u.userId !== meId);
  const searched = search.searched;

  async function create(input: Parameters<ChatClient["createConversation"]>[0]) {
    setBusy(true);
    setError(undefined);
    try {
      await client.createConversation(input);
      onDone();
    } catch (err) {
      setError(err instanceof Error ? err.message : "Could not create the chat");
      setBusy(false);
    }
  }

  function toggle(u: User) {
    setSelected((s) => (s.some((x) => x.userId === u.userId) ? s.filter((x) => x.userId !== u.userId) : [...s, u]));
  }

  function submitGroup(e: FormEvent) {
    e.preventDefault();
    if (!title.trim() || selected.length === 0) return;
    void create({ kind: "group", title: title.trim(), memberIds: selected.map((u) => u.userId) });
  }

  return (
    <section
      className="new-chat-panel"
      aria-labelledby="new-chat-title"
      onKeyDown={(e) => {
        if (e.key === "Escape") {
          e.preventDefault();
          onDone();
        }
      }}
    >
      <header className="pane-header">
        <h2 id="new-chat-title">New chat</h2>
        <button type="button" onClick={onDone}>
          Cancel
        </button>
      </header>
      <form className="new-chat-form" onSubmit={submitGroup}>
        <fieldset className="kind">
          <legend>Kind</legend>
          <label>
            <input type="radio" name="kind" checked={kind === "direct"} onChange={() => setKind("direct")} /> Direct
            message
          </label>
          <label>
            <input type="radio" name="kind" checked={kind === "group"} onChange={() => setKind("group")} /> Group
          </label>
        </fieldset>
        {kind === "group" && (
          <label>
            Group title
            <input value={title} maxLength={100} required onChange={(e) => setTitle(e.target.value)} />
          </label>
        )}
        <label>
          Search people
          <input
            type="search"
            value={query}
            placeholder="Name or username"
            autoCapitalize="none"
            spellCheck={false}
            autoFocus
            onChange={(e) => setQuery(e.target.value)}
          />
        </label>
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
        <ul className="people" aria-label="People">
          {(query.trim() ? results : browse.users.filter((u) => u.userId !== meId)).map((u) => (
            <li key={u.userId}>
              {kind === "direct" ? (
                <button type="button" disabled={busy} onClick={() => void create({ kind: "direct", userId: u.userId })}>
                  <span className="fixed">Chat with</span>{" "}
                  <span className="person" dir="auto">
                    {u.displayName}
                  </span>{" "}
                  <span className="muted fixed">@{u.userId}</span>
                </button>
              ) : (
                <label>
                  <input
                    type="checkbox"
                    checked={selected.some((x) => x.userId === u.userId)}
                    onChange={() => toggle(u)}
                  />{" "}
                  <span className="person" dir="auto">
                    {u.displayName}
                  </span>{" "}
                  <span className="muted">@{u.userId}</span>
                </label>
              )}
            </li>
          ))}
        </ul>
        {searched && query.trim() && results.length === 0 && <p className="muted">Nobody found.</p>}
        {!query.trim() && browse.next && (
          <button type="button" onClick={() => browseMore(browse.next)}>
            More people
          </button>
        )}
        {kind === "group" && (
          <>
            <p className="muted">
              {selected.length === 0
                ? "Pick at least one person."
                : `Members: ${selected.map((u) => u.displayName).join(", ")}`}
            </p>
            <button type="submit" className="primary" disabled={busy || !title.trim() || selected.length === 0}>
              Create group
            </button>
          </>
        )}
      </form>
    </section>
  );
}
