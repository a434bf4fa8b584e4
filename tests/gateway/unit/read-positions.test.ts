/**
 * SenderReadPositions (runtime/gateway/delivery/consumer.ts): sending implies having read up to the message. The
 * writes are off the notification path and coalesced per (sender, conversation): a burst is one write, at the
 * highest seq; a stop writes what is held.
 */
import type { Notification } from "../../../runtime/contracts";
import { READ_ADVANCE_FLUSH_MS, SenderReadPositions } from "../../../runtime/gateway/delivery/consumer";
import { fakeContext, fakeDb } from "./fakes";

const note = (senderId: string, conversationId: string, seq: number): Notification => ({
  v: 1,
  memberIds: ["alice", "bob"],
  message: { conversationId, seq, senderId, clientMessageId: `m${seq}`, body: "b", sentAt: 1, storedAt: 2 },
});

afterEach(() => jest.useRealTimers());

test("a burst from one sender in one conversation is one write, at its highest seq, after the flush window", async () => {
  jest.useFakeTimers();
  const { ddb, sent } = fakeDb();
  const positions = new SenderReadPositions(fakeContext(ddb));
  positions.note([note("alice", "g:c1", 1), note("alice", "g:c1", 2)]);
  positions.note([
    note("alice", "g:c1", 4),
    note("alice", "g:c1", 3),
    note("bob", "g:c1", 5),
    note("alice", "g:c2", 1),
  ]);
  expect(sent).toHaveLength(0); // nothing on the notification path
  await jest.advanceTimersByTimeAsync(READ_ADVANCE_FLUSH_MS);
  const writes = sent.map((c) => {
    const key = c.input.Key as { userId: string; conversationId: string };
    return `${c.name} ${key.userId} ${key.conversationId} ${String((c.input.ExpressionAttributeValues as { ":seq": number })[":seq"])}`;
  });
  expect(writes.sort()).toEqual([
    "UpdateCommand alice g:c1 4",
    "UpdateCommand alice g:c2 1",
    "UpdateCommand bob g:c1 5",
  ]);
  // The window starts again with the next message.
  positions.note([note("alice", "g:c1", 6)]);
  await jest.advanceTimersByTimeAsync(READ_ADVANCE_FLUSH_MS);
  expect(sent).toHaveLength(4);
});

test("a flush (the consumer's stop) writes what is held at once; a failed write is ignored", async () => {
  const { ddb, sent } = fakeDb(() => Promise.reject(new Error("throttled")));
  const positions = new SenderReadPositions(fakeContext(ddb), 60_000);
  positions.note([note("alice", "g:c1", 7)]);
  await positions.flush();
  expect(sent.map((c) => c.name)).toEqual(["UpdateCommand"]);
  await positions.flush();
  expect(sent).toHaveLength(1);
});
