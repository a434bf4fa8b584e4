/**
 * The jest fixture of the suites that run against a whole local stack (runtime/local/stack.ts): one stack per
 * suite, started before its first test and stopped after its last; the sockets a test opens are closed after it.
 */
import { startLocalStack, type LocalStack, type LocalStackOptions } from "../../runtime/local/stack";
import { Client } from "./clients";
import type { TestUser } from "./users";

export interface StackSuite {
  /** The running stack (inside tests and hooks). */
  readonly stack: LocalStack;
  /** Gateway `i`'s URL; indexes wrap around the gateways. */
  gw(i: number): string;
  /** A socket for `user` on gateway `i`, closed after the test. */
  connect(i: number, user: TestUser, name?: string): Promise<Client>;
}

export function localStackSuite(opts: LocalStackOptions, startupMs = 120_000): StackSuite {
  let running: LocalStack | undefined;
  const clients: Client[] = [];
  beforeAll(async () => {
    running = await startLocalStack(opts);
  }, startupMs);
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await running?.stop();
  });
  const suite: StackSuite = {
    get stack() {
      if (!running) throw new Error("the local stack is not running (used outside a test?)");
      return running;
    },
    gw: (i) => suite.stack.gateways[i % suite.stack.gateways.length]!.url,
    async connect(i, user, name = user.userId) {
      const c = await Client.connect(suite.gw(i), user.token, { name });
      clients.push(c);
      return c;
    },
  };
  return suite;
}
