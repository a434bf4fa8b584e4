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
// Next to each count, `billing` counts what the call is billed on (bench/pricing.ts prices it): the table and the
// attributes an UpdateItem sets (they decide which index entries it rewrites), the 4 KB chunks a read returned and
// whether it was strongly consistent, the 64 KB chunks of an SQS request and whether the queue is FIFO. Bodies are
// parsed here, after the request is sent, so the process under test sends exactly what it would without us.
const calls = {};
const billing = {};
const bill = (descriptor) => (billing[descriptor] = (billing[descriptor] ?? 0) + 1);
const originalRequest = http.request;
http.request = function countedRequest(...args) {
  const options = args.find((a) => a && typeof a === "object" && !(a instanceof URL));
  const headers = options?.headers ?? {};
  const target = headers["x-amz-target"] ?? headers["X-Amz-Target"];
  const key = typeof target === "string" ? target.replace(/^DynamoDB_\d+\./, "DynamoDB.") : "http";
  calls[key] = (calls[key] ?? 0) + 1;
  const req = originalRequest.apply(this, args);
  if (key !== "http") recordBilling(req, key);
  return req;
};
process.on("SIGTTOU", () => {
  process.stderr.write(`bench-calls ${JSON.stringify({ pid: process.pid, at: Date.now(), calls, billing })}\n`);
});

function recordBilling(req, key) {
  const chunks = [];
  const keep = (chunk) => {
    if (chunk && typeof chunk !== "function") chunks.push(Buffer.from(chunk));
  };
  const write = req.write;
  req.write = function (chunk, ...rest) {
    keep(chunk);
    return write.call(this, chunk, ...rest);
  };
  const end = req.end;
  req.end = function (chunk, ...rest) {
    keep(chunk);
    return end.call(this, chunk, ...rest);
  };
  req.once("response", (res) => {
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
      const [service, call] = key.split(".");
      const responseBytes = Number(res.headers["content-length"] ?? 0);
      if (service === "DynamoDB") billDynamo(call, body, responseBytes);
      else billSqs(call, body, Buffer.concat(chunks).length);
    } catch {
      // an unparsable body is counted in `calls` only
    }
  });
}

/** `write|<call>|<table>|<attributes set>`, `read|<call>|<strong|eventual>|<4 KB chunks>`. */
function billDynamo(call, body, responseBytes) {
  const consistency = body.ConsistentRead ? "strong" : "eventual";
  if (call === "PutItem") bill(`write|${call}|${body.TableName}|*`);
  else if (call === "DeleteItem") bill(`write|${call}|${body.TableName}|-`);
  else if (call === "UpdateItem") bill(`write|${call}|${body.TableName}|${updatedAttributes(body).join(",")}`);
  else if (call === "BatchWriteItem") {
    for (const [table, requests] of Object.entries(body.RequestItems ?? {}))
      for (const r of requests) bill(`write|${call}|${table}|${r.PutRequest ? "*" : "-"}`);
  } else if (call === "BatchGetItem") {
    // Each item is read (and rounded up to 4 KB) on its own.
    for (const spec of Object.values(body.RequestItems ?? {}))
      for (let i = 0; i < (spec.Keys?.length ?? 0); i++)
        bill(`read|${call}|${spec.ConsistentRead ? "strong" : "eventual"}|1`);
  } else if (call === "GetItem" || call === "Query" || call === "Scan") {
    // The response's DynamoDB JSON is a little larger than the billed item sizes: an upper bound, exact below 4 KB.
    bill(`read|${call}|${consistency}|${Math.max(1, Math.ceil(responseBytes / 4096))}`);
  } else bill(`other|${call}`);
}

/** The top-level attributes an update expression sets, adds, removes or deletes (#names resolved). */
function updatedAttributes(body) {
  const names = body.ExpressionAttributeNames ?? {};
  const expr = String(body.UpdateExpression ?? "");
  const out = new Set();
  for (const clause of expr.split(/\b(?=SET\b|REMOVE\b|ADD\b|DELETE\b)/i)) {
    const m = /^(SET|REMOVE|ADD|DELETE)\s+(.*)$/is.exec(clause.trim());
    if (!m) continue;
    for (const action of splitTopLevel(m[2])) {
      const path = action.trim().split(/[\s=.[]/)[0];
      if (path) out.add(names[path] ?? path);
    }
  }
  return [...out].sort();
}

function splitTopLevel(s) {
  const parts = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === "(") depth++;
    else if (s[i] === ")") depth--;
    else if (s[i] === "," && depth === 0) {
      parts.push(s.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(s.slice(start));
  return parts;
}

/** `sqs|<call>|<fifo|standard>|<64 KB chunks>`: each 64 KB of a request is billed as one request. */
function billSqs(call, body, requestBytes) {
  const queue = String(body.QueueUrl ?? "").endsWith(".fifo") ? "fifo" : "standard";
  bill(`sqs|${call}|${queue}|${Math.max(1, Math.ceil(requestBytes / 65536))}`);
}

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
