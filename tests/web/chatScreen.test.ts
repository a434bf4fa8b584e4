/** @jest-environment jsdom */
import { act, fireEvent, render, screen, within } from "@testing-library/react";
import { createElement as h } from "react";
import { ChatScreen } from "../../web/src/ui/ChatScreen";
import { CID, FakeApi, fakeClient, FakeSocket, msg, readyFrame } from "./fakes";

async function flush(): Promise<void> {
  await act(async () => {
    for (let i = 0; i < 100; i++) await Promise.resolve();
  });
}

function setup() {
  const api = new FakeApi();
  const { client, ws } = fakeClient(api);
  const frame = (f: Parameters<FakeSocket["receive"]>[0]) => act(() => ws().receive(f));
  return { api, client, ws, frame };
}

describe("ChatScreen with a live ChatClient", () => {
  it("shows the list with live unread counts, opens and reads a chat, and returns focus on Back", async () => {
    const t = setup();
    render(h(ChatScreen, { client: t.client, onLogout: () => {} }));
    act(() => t.client.start());
    await flush();
    act(() => {
      t.ws().open();
      t.ws().receive(readyFrame());
      t.ws().receive({ type: "synced", cursors: [] });
    });
    const item = await screen.findByTestId("chat-item");
    expect(item.textContent).toContain("Bob");
    t.frame({ type: "message", ...msg(3) });
    t.frame({ type: "message", ...msg(4) });
    expect(within(item).getByTestId("unread-badge").textContent).toBe("2 unread");
    expect(item.textContent).toContain("m4");

    t.api.history = [1, 2, 3, 4].map((s) => msg(s));
    fireEvent.click(item);
    await flush();
    expect(screen.getAllByTestId("message-body").map((b) => b.textContent)).toEqual(["m1", "m2", "m3", "m4"]);
    expect(within(screen.getByTestId("chat-item")).queryByTestId("unread-badge")).toBeNull();
    expect(t.ws().sentOfType("read")).toEqual([{ type: "read", conversationId: CID, seq: 4 }]);

    fireEvent.click(screen.getByRole("button", { name: "Back to chats" }));
    expect(document.activeElement).toBe(screen.getByTestId("chat-item"));
    act(() => t.client.stop());
  });

  it("shows an offline banner and a reconnecting banner, and hides it when live", async () => {
    jest.useFakeTimers();
    try {
      const t = setup();
      render(h(ChatScreen, { client: t.client, onLogout: () => {} }));
      act(() => t.client.start());
      await flush();
      const banner = screen.getByTestId("connection-banner");
      expect(banner.textContent).toBe(""); // first connect: no banner
      act(() => {
        t.ws().open();
        t.ws().receive(readyFrame());
        t.ws().receive({ type: "synced", cursors: [] });
      });
      act(() => t.client.browserOffline());
      expect(banner.textContent).toMatch(/offline/i);
      act(() => t.client.browserOnline());
      expect(banner.textContent).toMatch(/Reconnecting/);
      act(() => {
        t.ws().open();
        t.ws().receive(readyFrame());
        t.ws().receive({ type: "synced", cursors: [] });
      });
      await flush(); // back live: the chat list is refetched
      expect(banner.textContent).toBe("");
      act(() => t.ws().serverClose(1006));
      expect(banner.textContent).toMatch(/Reconnecting/);
      expect(within(banner).getByRole("button", { name: "Retry now" })).toBeTruthy();
      act(() => t.client.stop());
    } finally {
      jest.useRealTimers();
    }
  });
});
