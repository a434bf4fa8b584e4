// Preloaded (`node --require`) into every child of the local stack. The children run in their own process
// group, so a terminal's Ctrl-C reaches only the launcher, which stops them in order (gateways and persister
// before the emulators). If the launcher dies without stopping them, this ends the orphan: its parent pid
// changes when the parent is gone. SIGTERM first, so the child's own graceful shutdown runs.
/* global process, setInterval, setTimeout */
"use strict";
const parent = process.ppid;
let signalled = false;
setInterval(() => {
  if (process.ppid === parent) return;
  if (!signalled && process.listenerCount("SIGTERM") > 0) {
    signalled = true;
    process.kill(process.pid, "SIGTERM");
    setTimeout(() => process.exit(1), 5_000).unref();
  } else {
    process.exit(1);
  }
}, 500).unref();
