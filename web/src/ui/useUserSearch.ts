import { useEffect, useState } from "react";
import type { User } from "../state/api";
import type { ChatClient } from "../state/chatClient";

/**
 * People search as the user types: debounced, so a fast typist sends one search, not one per keystroke; an
 * answer that arrives after the query changed is dropped. `searched` says the current query has been answered
 * (to tell "no one found" from "still looking"); a failed search calls `onError`.
 */
export function useUserSearch(
  client: Pick<ChatClient, "searchUsers">,
  query: string,
  onError: (message: string) => void,
): { results: User[]; searched: boolean } {
  const [results, setResults] = useState<User[]>([]);
  const [searched, setSearched] = useState(false);
  useEffect(() => {
    const prefix = query.trim();
    if (prefix.length === 0) {
      setResults([]);
      setSearched(false);
      return;
    }
    let cancelled = false;
    const t = setTimeout(() => {
      client
        .searchUsers(prefix)
        .then((users) => {
          if (cancelled) return;
          setResults(users);
          setSearched(true);
        })
        .catch((err: unknown) => !cancelled && onError(err instanceof Error ? err.message : "Search failed"));
    }, 200);
    return () => {
      cancelled = true;
      clearTimeout(t);
    };
    // Not on onError: a new one each render must not restart the search.
  }, [query, client]);
  return { results, searched };
}
