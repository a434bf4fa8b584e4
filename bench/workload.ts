/**
 * The benchmark population and traffic plan, identical for every system under test: clients (one user, one
 * connection each), conversations of 2, 10 and 100 members spread across gateways, and a seeded message plan.
 */

/** Deterministic PRNG (mulberry32): every system gets the same senders, conversations and payloads. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface BenchConversation {
  readonly index: number;
  /** A Parley-valid group id (`g:` + 8..40 chars); the baselines use it as their room name. */
  readonly id: string;
  readonly size: number;
  /** Client indexes. */
  readonly members: readonly number[];
}

export interface Population {
  readonly clients: number;
  readonly userIds: readonly string[];
  /** Gateway index each client connects to (Parley); baselines have one server. */
  readonly gatewayOf: readonly number[];
  readonly conversations: readonly BenchConversation[];
  /** The conversation each client belongs to. */
  readonly conversationOf: readonly number[];
}

/** Share of clients in conversations of each size; the remainder after the 100s and 10s goes to pairs. */
export const SIZE_SHARES: readonly { size: number; share: number }[] = [
  { size: 100, share: 0.3 },
  { size: 10, share: 0.3 },
  { size: 2, share: 0.4 },
];

/**
 * Clients i and i+1 sit on different gateways (round robin), and conversations take consecutive clients, so
 * every conversation spans gateways: the cross-gateway path is the normal case, as in production.
 */
export function buildPopulation(clients: number, gateways: number, runTag: string): Population {
  if (clients < 4) throw new Error(`clients must be at least 4, got ${clients}`);
  const userIds = Array.from({ length: clients }, (_, i) => `b${runTag}_${String(i).padStart(5, "0")}`);
  const gatewayOf = userIds.map((_, i) => i % Math.max(1, gateways));
  const conversations: BenchConversation[] = [];
  const conversationOf = new Array<number>(clients).fill(-1);
  let next = 0;
  const take = (size: number) => {
    const members = Array.from({ length: size }, (_, k) => next + k);
    next += size;
    const index = conversations.length;
    for (const m of members) conversationOf[m] = index;
    conversations.push({ index, id: `g:bench${runTag}c${String(index).padStart(5, "0")}`, size, members });
  };
  for (const { size, share } of SIZE_SHARES.slice(0, 2)) {
    const count = Math.floor((clients * share) / size);
    for (let i = 0; i < count; i++) take(size);
  }
  while (clients - next >= 2) take(2);
  // An odd client out joins the last pair, which becomes a trio.
  if (next < clients) {
    const last = conversations.pop()!;
    const members = [...last.members, next];
    conversationOf[next] = last.index;
    conversations.push({ ...last, size: members.length, members });
  }
  return { clients, userIds, gatewayOf, conversations, conversationOf };
}

export interface PlannedMessage {
  readonly conversation: number;
  readonly sender: number;
  /** Per-sender sequence number, 1, 2, 3 … within the phase. */
  readonly senderSeq: number;
  /** Milliseconds after the phase start at which it is due. */
  readonly dueMs: number;
}

/**
 * An open-loop schedule at a fixed rate. Each message picks a conversation uniformly (so pairs carry most of
 * the traffic and the 100-member rooms most of the fan-out per message), then a random member as sender.
 */
export function planMessages(pop: Population, rate: number, durationS: number, seed: number): PlannedMessage[] {
  const rnd = seededRandom(seed);
  const total = Math.max(1, Math.round(rate * durationS));
  const senderSeq = new Map<number, number>();
  const out: PlannedMessage[] = [];
  for (let m = 0; m < total; m++) {
    const conv = pop.conversations[Math.floor(rnd() * pop.conversations.length)]!;
    const sender = conv.members[Math.floor(rnd() * conv.members.length)]!;
    const seq = (senderSeq.get(sender) ?? 0) + 1;
    senderSeq.set(sender, seq);
    out.push({ conversation: conv.index, sender, senderSeq: seq, dueMs: (m * 1000) / rate });
  }
  return out;
}

/** Recipients of a message: every member but the sender. */
export const expectedDeliveries = (pop: Population, plan: readonly PlannedMessage[]): number =>
  plan.reduce((n, p) => n + pop.conversations[p.conversation]!.size - 1, 0);
