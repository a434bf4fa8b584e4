/** @jest-environment jsdom */
import { act, fireEvent, render, screen, within } from "@testing-library/react";
import { createElement as h } from "react";
import type { ConversationSummary } from "../../web/src/state/api";
import type { ChatState } from "../../web/src/state/chatClient";
import {
  emptyMessageList,
  mergeHistoryPage,
  type StoredEntry,
  type StoredMessage,
} from "../../web/src/state/messageList";
import { ConversationView } from "../../web/src/ui/ConversationView";
import { fakeViewClient } from "./fakes";

const GID = "g:team123456";
const now = Date.now();

function group(over: Partial<ConversationSummary> = {}): ConversationSummary {
  return {
    conversationId: GID,
    kind: "group",
    title: "Team",
    memberIds: ["alice", "bob", "carol"],
    createdBy: "alice",
    lastSeq: 9,
    lastReadSeq: 9,
    unread: 0,
    createdAt: 1,
    ...over,
  };
}

function msg(seq: number, senderId: string, more: Partial<StoredMessage> = {}): StoredMessage {
  return {
    conversationId: GID,
    seq,
    senderId,
    clientMessageId: `c${seq}`,
    body: `message ${seq}`,
    sentAt: now,
    storedAt: now,
    ...more,
  };
}

function state(entries: StoredEntry[], over: Partial<ChatState> = {}): ChatState {
  return {
    me: { userId: "alice", displayName: "Alice" },
    connection: { status: "live", attempt: 0, wasLive: true },
    conversations: { [GID]: group() },
    conversationsLoaded: true,
    messages: { [GID]: mergeHistoryPage(emptyMessageList, entries, false, "alice") },
    loadingOlder: {},
    typing: {},
    receipts: {},
    presence: { bob: { userId: "bob", online: true, lastSeen: now } },
    names: { alice: "Alice", bob: "Bob", carol: "Carol" },
    openConversationId: GID,
    departed: {},
    ...over,
  };
}

const client = () =>
  fakeViewClient([
    { userId: "dan", displayName: "Dan" },
    { userId: "bob", displayName: "Bob" },
  ]);

const rows = () => screen.getAllByTestId("message");
const row = (seq: number) => rows().find((r) => r.getAttribute("data-seq") === String(seq))!;
const openActions = (seq: number) => fireEvent.click(within(row(seq)).getByRole("button", { name: "Message actions" }));

describe("ConversationView: chat depth", () => {
  const entries: StoredEntry[] = [
    msg(1, "bob", { body: "first", editedAt: now, rev: 4 }),
    {
      conversationId: GID,
      seq: 2,
      senderId: "bob",
      clientMessageId: "e2",
      sentAt: now,
      storedAt: now,
      kind: "add",
      userIds: ["carol"],
    },
    msg(3, "alice", { body: "", deleted: true, rev: 5 }),
    msg(6, "alice", {
      body: "answer",
      replyTo: { seq: 1, senderId: "bob", preview: "first" },
      reactions: { "👍": ["bob", "alice"], "🎉": ["carol"] },
    }),
    msg(7, "bob", { replyTo: { seq: 3, senderId: "alice", deleted: true } }),
  ];

  it("shows system lines, the edited marker, tombstones, quotes and reaction chips with who", () => {
    render(h(ConversationView, { client: client(), state: state(entries), conversationId: GID }));
    expect(screen.getByTestId("system-line").textContent).toBe("Bob added Carol");
    expect(within(row(1)).getByTestId("edited").textContent).toBe("edited");
    expect(within(row(3)).getByTestId("message-deleted").textContent).toBe("Message deleted");
    expect(within(row(3)).queryByTestId("message-body")).toBeNull();
    expect(within(row(6)).getByTestId("reply-quote").textContent).toBe("Bob: first");
    expect(within(row(7)).getByTestId("reply-quote").textContent).toBe("You: deleted");
    const chips = within(row(6)).getAllByTestId("reaction");
    expect(chips.map((c) => [c.textContent, c.getAttribute("title"), c.getAttribute("aria-pressed")])).toEqual([
      ["👍 2", "Bob, You", "true"],
      ["🎉 1", "Carol", "false"],
    ]);
  });

  it("toggles the user's reaction from a chip and from the picker", () => {
    const c = client();
    render(h(ConversationView, { client: c, state: state(entries), conversationId: GID }));
    const [thumbs, party] = within(row(6)).getAllByTestId("reaction");
    fireEvent.click(thumbs!);
    fireEvent.click(party!);
    expect(c.react.mock.calls).toEqual([
      [GID, 6, "👍", false],
      [GID, 6, "🎉", true],
    ]);
    openActions(7);
    fireEvent.click(screen.getByRole("button", { name: "React with ❤️" }));
    expect(c.react).toHaveBeenLastCalledWith(GID, 7, "❤️", true);
    expect(screen.queryByTestId("action-menu")).toBeNull(); // closed after picking
  });

  it("offers edit and delete on own messages only, reply everywhere, and only reply on a tombstone", () => {
    const first = render(h(ConversationView, { client: client(), state: state(entries), conversationId: GID }));
    const names = (seq: number) => {
      openActions(seq);
      const menu = screen.getByTestId("action-menu");
      const got = within(menu)
        .getAllByRole("button")
        .map((b) => b.textContent)
        .filter((t) => !/^\p{Extended_Pictographic}/u.test(t ?? ""));
      openActions(seq);
      return got;
    };
    expect(names(6)).toEqual(["Reply", "Edit", "Delete"]);
    expect(names(7)).toEqual(["Reply"]);
    expect(names(3)).toEqual(["Reply"]);
    // Past the edit window: no Edit.
    const old = state([msg(8, "alice", { sentAt: now - 25 * 3600_000 })]);
    first.unmount();
    render(h(ConversationView, { client: client(), state: old, conversationId: GID }));
    expect(names(8)).toEqual(["Reply", "Delete"]);
  });

  it("edits inline: Enter saves, Escape cancels", () => {
    const c = client();
    render(h(ConversationView, { client: c, state: state(entries), conversationId: GID }));
    openActions(6);
    fireEvent.click(screen.getByRole("button", { name: "Edit" }));
    const box = screen.getByLabelText("Edit message") as HTMLTextAreaElement;
    expect(box.value).toBe("answer");
    fireEvent.change(box, { target: { value: "better answer" } });
    fireEvent.keyDown(box, { key: "Enter" });
    expect(c.edit).toHaveBeenCalledWith(GID, 6, "better answer");
    expect(screen.queryByLabelText("Edit message")).toBeNull();
    openActions(6);
    fireEvent.click(screen.getByRole("button", { name: "Edit" }));
    fireEvent.change(screen.getByLabelText("Edit message"), { target: { value: "nope" } });
    fireEvent.keyDown(screen.getByLabelText("Edit message"), { key: "Escape" });
    expect(c.edit).toHaveBeenCalledTimes(1);
    expect(c.openConversation).not.toHaveBeenCalled(); // Escape in the editor does not close the chat
  });

  it("deletes after a confirmation", () => {
    const c = client();
    render(h(ConversationView, { client: c, state: state(entries), conversationId: GID }));
    openActions(6);
    fireEvent.click(screen.getByRole("button", { name: "Delete" }));
    expect(c.deleteMessage).not.toHaveBeenCalled();
    fireEvent.click(
      within(screen.getByRole("group", { name: "Delete message" })).getByRole("button", { name: "Delete" }),
    );
    expect(c.deleteMessage).toHaveBeenCalledWith(GID, 6);
  });

  it("replies: the composer shows what it answers, can cancel, and sends with replyTo", () => {
    const c = client();
    render(h(ConversationView, { client: c, state: state(entries), conversationId: GID }));
    openActions(1);
    fireEvent.click(screen.getByRole("button", { name: "Reply" }));
    expect(screen.getByTestId("replying-to").textContent).toContain("Replying to Bob: first");
    fireEvent.click(screen.getByRole("button", { name: "Cancel reply" }));
    expect(screen.queryByTestId("replying-to")).toBeNull();
    openActions(1);
    fireEvent.click(screen.getByRole("button", { name: "Reply" }));
    const box = screen.getByLabelText("Message");
    fireEvent.change(box, { target: { value: "yes" } });
    fireEvent.keyDown(box, { key: "Enter" });
    expect(c.send).toHaveBeenCalledWith(GID, "yes", 1);
    expect(screen.queryByTestId("replying-to")).toBeNull();
  });

  it("shows a refused change as a notice the user can dismiss", () => {
    const c = client();
    const s = state(entries, { actionNotice: { conversationId: GID, text: "Could not edit the message: x." } });
    render(h(ConversationView, { client: c, state: s, conversationId: GID }));
    expect(screen.getByTestId("action-notice").textContent).toContain("Could not edit the message: x.");
    fireEvent.click(screen.getByRole("button", { name: "Dismiss" }));
    expect(c.dismissNotice).toHaveBeenCalled();
  });

  it("after removal: says so, no composer input, no actions", () => {
    const s = state(entries, {
      conversations: {},
      departed: { [GID]: { reason: "removed", atSeq: 9, title: "Team" } },
    });
    render(h(ConversationView, { client: client(), state: s, conversationId: GID }));
    expect(screen.getByRole("heading", { name: "Team" })).toBeTruthy();
    expect(screen.getByTestId("departed").textContent).toBe("You are no longer a member of this group.");
    expect((screen.getByLabelText("Message") as HTMLTextAreaElement).disabled).toBe(true);
    expect(screen.queryAllByRole("button", { name: "Message actions" })).toEqual([]);
    expect(screen.queryByRole("button", { name: /members/ })).toBeNull();
  });
});

describe("GroupPanel", () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  const open = (s: ChatState, c = client()) => {
    const view = render(h(ConversationView, { client: c, state: s, conversationId: GID }));
    fireEvent.click(screen.getByRole("button", { name: "3 members" }));
    return { ...c, unmount: view.unmount };
  };

  it("lists members with presence; renames, adds people found by search, leaves after a confirmation", async () => {
    const c = open(state([]));
    const members = within(screen.getByRole("list", { name: "Members" })).getAllByTestId("member");
    expect(members.map((m) => m.querySelector(".person")?.textContent)).toEqual(["Alice", "Bob", "Carol"]);
    expect(within(members[1]!).getByTestId("presence-dot").getAttribute("data-online")).toBe("true");

    fireEvent.change(screen.getByLabelText("Group name"), { target: { value: "Crew" } });
    fireEvent.click(screen.getByRole("button", { name: "Rename" }));
    expect(c.rename).toHaveBeenCalledWith(GID, "Crew");

    fireEvent.change(screen.getByLabelText("Add people"), { target: { value: "d" } });
    await act(async () => {
      jest.advanceTimersByTime(250);
    });
    const people = within(screen.getByRole("list", { name: "People to add" })).getAllByRole("button");
    expect(people.map((b) => b.textContent)).toEqual(["Add Dan @dan"]); // Bob is already in
    fireEvent.click(people[0]!);
    expect(c.addMembers).toHaveBeenCalledWith(GID, ["dan"]);

    fireEvent.click(screen.getByRole("button", { name: "Leave group" }));
    expect(c.leave).not.toHaveBeenCalled();
    fireEvent.click(screen.getByRole("button", { name: "Leave" }));
    expect(c.leave).toHaveBeenCalledWith(GID);
  });

  it("shows Remove only to the creator when the summary names one", () => {
    const byBob = state([], { conversations: { [GID]: { ...group(), createdBy: "bob" } as ConversationSummary } });
    const first = open(byBob);
    expect(screen.queryByRole("button", { name: /^Remove/ })).toBeNull();
    first.unmount();
    const byMe = state([], { conversations: { [GID]: { ...group(), createdBy: "alice" } as ConversationSummary } });
    const c = open(byMe);
    fireEvent.click(screen.getByRole("button", { name: "Remove Carol" }));
    expect(c.removeMember).not.toHaveBeenCalled(); // asks first
    fireEvent.click(screen.getByRole("button", { name: "Remove Carol" }));
    expect(c.removeMember).toHaveBeenCalledWith(GID, "carol");
  });
});
