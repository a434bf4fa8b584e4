/** @jest-environment jsdom */
import { act, fireEvent, render, screen, within } from "@testing-library/react";
import { createElement as h } from "react";
import type { ConversationSummary, Session } from "../../web/src/state/api";
import { ApiError } from "../../web/src/state/api";
import type { ChatClient, ChatState } from "../../web/src/state/chatClient";
import {
  addPending,
  emptyMessageList,
  markFailed,
  mergeHistoryPage,
  type StoredMessage,
} from "../../web/src/state/messageList";
import { AuthScreen } from "../../web/src/ui/AuthScreen";
import { ChatList } from "../../web/src/ui/ChatList";
import { ConversationView } from "../../web/src/ui/ConversationView";
import { fakeViewClient } from "./fakes";

const CID = "d:alice:bob";

function summary(over: Partial<ConversationSummary>): ConversationSummary {
  return {
    conversationId: CID,
    kind: "direct",
    memberIds: ["alice", "bob"],
    createdBy: "alice",
    lastSeq: 0,
    lastReadSeq: 0,
    unread: 0,
    createdAt: 1,
    ...over,
  };
}

function msg(seq: number, senderId: string, clientMessageId = `c${seq}`): StoredMessage {
  return {
    conversationId: CID,
    seq,
    senderId,
    clientMessageId,
    body: `message ${seq}`,
    sentAt: Date.now(),
    storedAt: Date.now(),
  };
}

function baseState(over: Partial<ChatState> = {}): ChatState {
  return {
    me: { userId: "alice", displayName: "Alice" },
    connection: { status: "live", attempt: 0, wasLive: true },
    conversations: {},
    conversationsLoaded: true,
    messages: {},
    loadingOlder: {},
    typing: {},
    receipts: {},
    presence: {},
    names: { alice: "Alice", bob: "Bob", carol: "Carol" },
    openConversationId: null,
    departed: {},
    ...over,
  };
}

describe("ChatList", () => {
  it("shows chats newest first with title, preview, unread badge and presence", () => {
    const state = baseState({
      conversations: {
        [CID]: summary({
          lastSeq: 5,
          lastReadSeq: 2,
          lastMessageAt: 2000,
          lastPreview: "hi alice",
          lastSenderId: "bob",
        }),
        "g:team12345": summary({
          conversationId: "g:team12345",
          kind: "group",
          title: "Team",
          memberIds: ["alice", "bob", "carol"],
          lastSeq: 1,
          lastReadSeq: 1,
          lastMessageAt: 1000,
          lastPreview: "standup?",
          lastSenderId: "alice",
        }),
      },
      presence: { bob: { userId: "bob", online: true, lastSeen: 1 } },
    });
    const onOpen = jest.fn();
    render(h(ChatList, { state, onOpen }));
    const items = screen.getAllByTestId("chat-item");
    expect(items.map((i) => i.querySelector(".name")!.textContent)).toEqual(["Bob", "Team"]);
    expect(within(items[0]!).getByTestId("unread-badge").textContent).toBe("3 unread");
    expect(within(items[0]!).getByTestId("presence-dot").getAttribute("data-online")).toBe("true");
    expect(within(items[1]!).queryByTestId("unread-badge")).toBeNull();
    expect(items[1]!.textContent).toContain("You: standup?");
    fireEvent.click(items[1]!);
    expect(onOpen).toHaveBeenCalledWith("g:team12345");
  });
});

describe("ConversationView", () => {
  const client = () => fakeViewClient();

  it("renders stored messages by seq, then own sends with their state, retry, typing and seen-by", () => {
    let list = mergeHistoryPage(emptyMessageList, [msg(2, "alice"), msg(1, "bob")], false, "alice");
    list = addPending(list, { clientMessageId: "p1", body: "on its way", now: Date.now() });
    list = addPending(list, { clientMessageId: "p2", body: "broken", now: Date.now() });
    list = markFailed(list, "p2", "Rate limited");
    const state = baseState({
      conversations: { [CID]: summary({ lastSeq: 2, lastReadSeq: 2 }) },
      messages: { [CID]: list },
      typing: { [CID]: { bob: Date.now() + 3000 } },
      receipts: { [CID]: { bob: 2 } },
      openConversationId: CID,
    });
    const c = client();
    render(h(ConversationView, { client: c, state, conversationId: CID }));
    expect(screen.getByRole("heading", { name: "Bob" })).toBeTruthy();
    const rows = screen.getAllByTestId("message");
    expect(rows.map((r) => within(r).getByTestId("message-body").textContent)).toEqual([
      "message 1",
      "message 2",
      "on its way",
      "broken",
    ]);
    expect(rows.map((r) => r.getAttribute("data-status"))).toEqual(["stored", "stored", "pending", "failed"]);
    expect(within(rows[1]!).getByTestId("seen-by").textContent).toContain("Seen by Bob");
    expect(within(rows[2]!).getByTestId("message-status").textContent).toBe("Sending…");
    fireEvent.click(within(rows[3]!).getByRole("button", { name: "Retry" }));
    expect(c.retry).toHaveBeenCalledWith(CID, "p2");
    expect(screen.getByTestId("typing-indicator").textContent).toBe("Bob is typing…");
  });

  it("sends on Enter, keeps Shift+Enter for new lines, announces typing, and focuses the message box", () => {
    const state = baseState({
      conversations: { [CID]: summary({}) },
      messages: { [CID]: mergeHistoryPage(emptyMessageList, [], false, "alice") },
      openConversationId: CID,
    });
    const c = client();
    render(h(ConversationView, { client: c, state, conversationId: CID }));
    const box = screen.getByLabelText("Message");
    expect(document.activeElement).toBe(box);
    fireEvent.change(box, { target: { value: "hello" } });
    expect(c.notifyTyping).toHaveBeenCalledWith(CID, true);
    fireEvent.keyDown(box, { key: "Enter", shiftKey: true });
    expect(c.send).not.toHaveBeenCalled();
    fireEvent.keyDown(box, { key: "Enter" });
    expect(c.send).toHaveBeenCalledWith(CID, "hello");
    expect((box as HTMLTextAreaElement).value).toBe("");
    fireEvent.keyDown(box, { key: "Escape" });
    expect(c.openConversation).toHaveBeenCalledWith(null);
  });

  it("offers older history with a button when more pages exist", () => {
    const state = baseState({
      conversations: { [CID]: summary({ lastSeq: 60 }) },
      messages: { [CID]: mergeHistoryPage(emptyMessageList, [msg(60, "bob")], true, "alice") },
      openConversationId: CID,
    });
    const c = client();
    render(h(ConversationView, { client: c as unknown as ChatClient, state, conversationId: CID }));
    fireEvent.click(screen.getByRole("button", { name: "Load older messages" }));
    expect(c.loadOlder).toHaveBeenCalledWith(CID);
  });
});

describe("AuthScreen", () => {
  it("signs up with a normalised username and reports server errors accessibly", async () => {
    const session: Session = { token: "t", user: { userId: "alice", displayName: "Alice" } };
    const api = {
      login: jest.fn(async () => {
        throw new ApiError(401, "UNAUTHENTICATED", "Wrong username or password");
      }),
      signup: jest.fn(async () => session),
    };
    const onAuthenticated = jest.fn();
    render(h(AuthScreen, { api, onAuthenticated }));
    fireEvent.change(screen.getByLabelText("Username"), { target: { value: "Alice" } });
    fireEvent.change(screen.getByLabelText("Password"), { target: { value: "wrong-password" } });
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Log in" }));
    });
    expect(api.login).toHaveBeenCalledWith({ username: "alice", password: "wrong-password" });
    expect(screen.getByRole("alert").textContent).toBe("Wrong username or password");

    fireEvent.click(screen.getByRole("button", { name: /create an account/i }));
    fireEvent.change(screen.getByLabelText(/Display name/), { target: { value: "Alice A." } });
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Sign up" }));
    });
    expect(api.signup).toHaveBeenCalledWith({ username: "alice", password: "wrong-password", displayName: "Alice A." });
    expect(onAuthenticated).toHaveBeenCalledWith(session);
  });
});
