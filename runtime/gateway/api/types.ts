/**
 * What a route handler of the HTTP API is given and returns: the types of contracts/api.ts bound to the
 * gateway's request. The router (../http-api.ts) has already checked the token and parsed the path, query and
 * body with the route's schemas, so a handler starts from valid input.
 */
import type { IncomingMessage } from "node:http";
import type { apiRoutes, ApiResponses, BodyOutput, PathParams, QueryOutput, RouteName } from "../../contracts/api";
import type { VerifiedToken } from "../auth";
import type { ConnectionDirectory, MemberCache } from "../delivery/directory";
import type { Router } from "../delivery/routing";
import type { Contacts } from "../presence/contacts";

export interface RouteRequest<K extends RouteName> {
  readonly req: IncomingMessage;
  /** The verified bearer token; a route with `auth: false` gets none. */
  readonly token: (typeof apiRoutes)[K]["auth"] extends true ? VerifiedToken : undefined;
  readonly params: PathParams<K>;
  readonly query: QueryOutput<K>;
  readonly body: BodyOutput<K>;
}

export interface RouteResult<K extends RouteName> {
  readonly status: number;
  readonly body: ApiResponses[K];
}

export type RouteHandler<K extends RouteName> = (request: RouteRequest<K>) => Promise<RouteResult<K>>;

/** One handler per route name; the router requires them all. */
export type RouteHandlers<K extends RouteName = RouteName> = { readonly [N in K]: RouteHandler<N> };

/** The gateway parts the API reads besides the context. */
export interface ApiParts {
  readonly directory: Pick<ConnectionDirectory, "confirmedLive">;
  readonly members: Pick<MemberCache, "conversationFor" | "remember">;
  readonly contacts: Pick<Contacts, "conversationCreated" | "contactsOf">;
  /** Tells the members of a new conversation (a `conversation` frame), so it shows in their chat lists at once. */
  readonly router: Pick<Router, "toUsers">;
}
