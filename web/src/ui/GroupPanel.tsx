import { useEffect, useState, type FormEvent } from "react";
import type { ConversationSummary, Presence } from "../state/api";
import type { ChatClient } from "../state/chatClient";
import { memberRows } from "../state/members";
import { formatTime } from "./format";
import { PresenceDot } from "./PresenceDot";
import { useUserSearch } from "./useUserSearch";

interface Props {
  client: Pick<ChatClient, "addMembers" | "removeMember" | "leave" | "rename" | "searchUsers">;
  summary: ConversationSummary;
  me: string;
  names: Readonly<Record<string, string>>;
  presence: Readonly<Record<string, Presence>>;
  /** Who created the group: only they may remove members. */
  creator: string;
  onClose: () => void;
}

/** A group's members with presence, and what a member can do to it: rename, add people, remove (creator), leave. */
export function GroupPanel({ client, summary, me, names, presence, creator, onClose }: Props) {
  const id = summary.conversationId;
  const [title, setTitle] = useState(summary.title ?? "");
  const [query, setQuery] = useState("");
  const [error, setError] = useState<string | undefined>();
  const { results, searched } = useUserSearch(client, query, setError);
  const [confirming, setConfirming] = useState<{ kind: "leave" } | { kind: "remove"; userId: string } | null>(null);
  // The server decides; the button shows only where it would be allowed.
  const mayRemove = creator === me;

  useEffect(() => setTitle(summary.title ?? ""), [summary.title]);

  function rename(e: FormEvent) {
    e.preventDefault();
    const next = title.trim();
    if (next && next !== summary.title) client.rename(id, next);
  }

  const candidates = results.filter((u) => !summary.memberIds.includes(u.userId));
  return (
    <section
      id="group-panel"
      className="group-panel"
      aria-label="Group"
      onKeyDown={(e) => {
        if (e.key === "Escape") {
          e.stopPropagation();
          onClose();
        }
      }}
    >
      <form className="rename" onSubmit={rename}>
        <label htmlFor="group-title">Group name</label>
        <input id="group-title" value={title} maxLength={100} onChange={(e) => setTitle(e.target.value)} />
        <button type="submit" disabled={!title.trim() || title.trim() === summary.title}>
          Rename
        </button>
      </form>
      <ul id="member-list" className="member-list" aria-label="Members">
        {memberRows(summary, me, names, presence).map((m) => (
          <li key={m.userId} data-testid="member">
            {m.online !== undefined && <PresenceDot online={m.online} />}
            <span className="person" dir="auto">
              {m.name}
            </span>
            <span className="muted" data-testid="member-status">
              {m.me
                ? "you"
                : m.online
                  ? "online"
                  : m.lastSeen
                    ? `last seen ${formatTime(m.lastSeen)}`
                    : m.online === false
                      ? "offline"
                      : ""}
            </span>
            {!m.me &&
              mayRemove &&
              (confirming?.kind === "remove" && confirming.userId === m.userId ? (
                <span className="confirm">
                  <button
                    type="button"
                    className="danger"
                    onClick={() => {
                      setConfirming(null);
                      client.removeMember(id, m.userId);
                    }}
                  >
                    Remove {m.name}
                  </button>
                  <button type="button" onClick={() => setConfirming(null)}>
                    Cancel
                  </button>
                </span>
              ) : (
                <button
                  type="button"
                  className="link"
                  aria-label={`Remove ${m.name}`}
                  onClick={() => setConfirming({ kind: "remove", userId: m.userId })}
                >
                  Remove
                </button>
              ))}
          </li>
        ))}
      </ul>
      <div className="add-members">
        <label htmlFor="add-people">Add people</label>
        <input
          id="add-people"
          type="search"
          value={query}
          placeholder="Name or username"
          autoCapitalize="none"
          spellCheck={false}
          onChange={(e) => setQuery(e.target.value)}
        />
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
        {query.trim() && (
          <ul className="people" aria-label="People to add">
            {candidates.map((u) => (
              <li key={u.userId}>
                <button
                  type="button"
                  onClick={() => {
                    client.addMembers(id, [u.userId]);
                    setQuery("");
                  }}
                >
                  <span className="fixed">Add</span>{" "}
                  <span className="person" dir="auto">
                    {u.displayName}
                  </span>{" "}
                  <span className="muted fixed">@{u.userId}</span>
                </button>
              </li>
            ))}
          </ul>
        )}
        {searched && query.trim() && candidates.length === 0 && <p className="muted">Nobody to add.</p>}
      </div>
      <div className="leave">
        {confirming?.kind === "leave" ? (
          <span className="confirm" role="group" aria-label="Leave group">
            <span>Leave this group? You will no longer see new messages.</span>{" "}
            <button
              type="button"
              className="danger"
              onClick={() => {
                setConfirming(null);
                client.leave(id);
              }}
            >
              Leave
            </button>{" "}
            <button type="button" onClick={() => setConfirming(null)}>
              Cancel
            </button>
          </span>
        ) : (
          <button type="button" className="danger" onClick={() => setConfirming({ kind: "leave" })}>
            Leave group
          </button>
        )}
      </div>
    </section>
  );
}
