import { useSyncExternalStore } from "react";
import type { ChatClient, ChatState } from "../state/chatClient";

export function useChatState(client: ChatClient): ChatState {
  return useSyncExternalStore(client.subscribe, client.getState, client.getState);
}
