/** What the connection state means to the user: the one banner the chat screen shows, if any. */
import type { ConnectionSnapshot } from "./connection";

export type Banner = "offline" | "reconnecting" | "blocked" | null;

export function bannerOf(s: ConnectionSnapshot): Banner {
  if (s.offline && s.status !== "live" && s.status !== "stopped" && s.status !== "unauthorized") return "offline";
  switch (s.status) {
    case "offline":
      return "offline";
    case "blocked":
      return "blocked";
    case "live":
    case "idle":
    case "stopped":
    case "unauthorized":
      return null;
    default:
      return s.wasLive || s.attempt > 0 ? "reconnecting" : null;
  }
}
