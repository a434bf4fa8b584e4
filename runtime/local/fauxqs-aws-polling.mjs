/**
 * fauxqs with SQS's long-poll semantics: a message wakes one waiting receive, not all of them.
 *
 * fauxqs 1.9 resolves every pending long poll of a queue when one message arrives; the first takes it and the rest
 * answer empty at once, so N pollers cost N receives per message (each a billed request in AWS, where a waiting
 * receive keeps waiting until a message is there for it or its wait time ends). Here a queue with available
 * messages wakes one waiter per event-loop turn, after the previous one has dequeued: a batch of ten wakes one
 * receive that takes all ten, and two messages in a row wake two. Everything else is fauxqs as shipped
 * (runtime/local/emulators.ts starts this file in its place; tests/aws-rules/long-poll.test.ts pins the behaviour).
 */
import { fileURLToPath, pathToFileURL } from "node:url";
import path from "node:path";

const dist = path.dirname(fileURLToPath(import.meta.resolve("fauxqs")));
const { SqsQueue } = await import(pathToFileURL(path.join(dist, "sqs/sqsStore.js")).href);

if (typeof SqsQueue?.prototype?.notifyWaiters !== "function" || typeof SqsQueue.prototype.isFifo !== "function") {
  throw new Error("fauxqs-aws-polling: this fauxqs version has no SqsQueue#notifyWaiters; update the patch");
}

const wakeScheduled = Symbol("wakeScheduled");

function available(queue) {
  return queue.isFifo() ? queue.hasAvailableFifoMessages() : queue.messages.length > 0;
}

SqsQueue.prototype.notifyWaiters = function notifyWaiters() {
  if (this[wakeScheduled]) return;
  this[wakeScheduled] = setImmediate(() => {
    this[wakeScheduled] = undefined;
    if (!available(this)) return;
    const waiter = this.pollWaiters.shift();
    if (!waiter) return;
    clearTimeout(waiter.timer);
    waiter.resolve();
    // The woken receive dequeues in this turn's microtasks; look again in the next turn.
    this.notifyWaiters();
  });
};

await import(pathToFileURL(path.join(dist, "cli.js")).href);
