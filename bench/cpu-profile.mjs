// Preloaded into a Parley process with NODE_OPTIONS="--import <this file>" (Node 20 refuses --cpu-prof in
// NODE_OPTIONS, and the local stack owns the processes' command lines). The first SIGUSR2 starts V8's sampling
// profiler, the second stops it and writes pid-<pid>.cpuprofile into $BENCH_CPU_PROF_DIR, so a profile covers
// exactly the measured phases, not startup. A profile still running at exit is written then (the in-process
// inspector session answers synchronously, so this works inside the 'exit' handler).
import { mkdirSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import path from "node:path";

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
