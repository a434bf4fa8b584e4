// Preloaded into every process the benchmark meters (gateways and persister through NODE_OPTIONS="--import
// <this file>", baselines on their command line). The local stack owns the Parley command lines, and Node 20
// refuses --cpu-prof and --expose-gc in NODE_OPTIONS, so both are provided from here:
// - SIGWINCH runs a full garbage collection and prints process.memoryUsage() as a `bench-memory {json}` line on
//   stderr, so memory is read after GC (the benchmark sends it before each RSS reading). The gc function comes
//   from a fresh context after setting the flag at runtime.
// - With $BENCH_CPU_PROF_DIR set, the first SIGUSR2 starts V8's sampling profiler and the second stops it and
//   writes pid-<pid>.cpuprofile there, so a profile covers exactly the measured phases. A profile still running
//   at exit is written then (the in-process inspector session answers synchronously, even in 'exit').
import { mkdirSync, writeFileSync } from "node:fs";
import http from "node:http";
import { Session } from "node:inspector";
import path from "node:path";
import { setFlagsFromString, writeHeapSnapshot } from "node:v8";
import { runInNewContext } from "node:vm";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc");
process.on("SIGWINCH", () => {
  gc();
  // Read by the benchmark from the process output: where the memory is (JS heap vs. buffers vs. native).
  const m = process.memoryUsage();
  process.stderr.write(`bench-memory ${JSON.stringify({ pid: process.pid, at: Date.now(), ...m })}\n`);
});

// Every outgoing HTTP request is counted by its AWS operation (the x-amz-target header of DynamoDB and SQS's JSON
// protocol) or as "http" (e.g. gateway → gateway deliveries); SIGTTOU prints the running totals as a
// `bench-calls {json}` line on stderr, so the benchmark can take calls per message per process.
const calls = {};
const originalRequest = http.request;
http.request = function countedRequest(...args) {
  const options = args.find((a) => a && typeof a === "object" && !(a instanceof URL));
  const headers = options?.headers ?? {};
  const target = headers["x-amz-target"] ?? headers["X-Amz-Target"];
  const key = typeof target === "string" ? target.replace(/^DynamoDB_\d+\./, "DynamoDB.") : "http";
  calls[key] = (calls[key] ?? 0) + 1;
  return originalRequest.apply(this, args);
};
process.on("SIGTTOU", () => {
  process.stderr.write(`bench-calls ${JSON.stringify({ pid: process.pid, at: Date.now(), calls })}\n`);
});

// With $BENCH_HEAP_DIR set, SIGTTIN writes a heap snapshot there (after a full GC), named by pid and time.
const heapDir = process.env.BENCH_HEAP_DIR;
if (heapDir) {
  process.on("SIGTTIN", () => {
    gc();
    mkdirSync(heapDir, { recursive: true });
    writeHeapSnapshot(path.join(heapDir, `pid-${process.pid}-${Date.now()}.heapsnapshot`));
  });
}

const dir = process.env.BENCH_CPU_PROF_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post("Profiler.enable");
  session.post("Profiler.setSamplingInterval", { interval: 500 });
  let running = false;
  const stop = () => {
    if (!running) return;
    running = false;
    session.post("Profiler.stop", (err, result) => {
      if (err) return;
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, `pid-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  };
  process.on("SIGUSR2", () => {
    if (running) return stop();
    running = true;
    session.post("Profiler.start");
  });
  process.on("exit", stop);
}
