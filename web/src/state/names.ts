/**
 * Display names by user id, filled lazily. There is no users-by-id endpoint: an exact-prefix search finds each
 * unknown member, once; a failed lookup may be tried again the next time the member shows up.
 */
import type { Api, User } from "./api";
import type { ChatStore } from "./store";

export interface NamesDeps {
  store: ChatStore;
  api: Pick<Api, "searchUsers">;
}

/** What a module that meets unknown members needs: ask for their names. */
export type NameLookup = Pick<Names, "resolve">;

export class Names {
  private readonly lookups = new Set<string>();

  constructor(private readonly deps: NamesDeps) {}

  /** Users the client has seen anyway (a search result, a lookup): their names are known from now on. */
  remember(users: readonly User[]): void {
    this.deps.store.update((s) => {
      const fresh = users.filter((u) => s.names[u.userId] !== u.displayName);
      if (fresh.length === 0) return s;
      const names = { ...s.names };
      for (const u of fresh) names[u.userId] = u.displayName;
      return { ...s, names };
    });
  }

  resolve(userIds: readonly string[]): void {
    for (const id of new Set(userIds)) {
      if (this.deps.store.getState().names[id] !== undefined || this.lookups.has(id)) continue;
      this.lookups.add(id);
      this.deps.api
        .searchUsers(id, 5)
        .then((users) => this.remember(users.filter((u) => u.userId === id)))
        .catch(() => this.lookups.delete(id));
    }
  }
}
