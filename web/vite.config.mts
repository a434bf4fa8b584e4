import { gzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";
import { defineConfig, type Plugin } from "vite";

/** The first screen's JavaScript budget (issue 17), in kB of 1,000 bytes as Vite reports sizes; tests/web/bundle.test.ts holds the build to it. */
export const ENTRY_BUDGET_KB = 100;

/** Prints the entry chunk's gzip size on every build, so a change that grows it shows where it is made. */
function reportEntrySize(): Plugin {
  return {
    name: "parley-entry-size",
    apply: "build",
    writeBundle(_options, bundle) {
      for (const chunk of Object.values(bundle)) {
        if (chunk.type !== "chunk" || !chunk.isEntry) continue;
        const kb = gzipSync(chunk.code).length / 1000;
        console.log(`entry chunk ${chunk.fileName}: ${kb.toFixed(2)} kB gzip (budget ${ENTRY_BUDGET_KB} kB)`);
      }
    },
  };
}

// `npm run build:web` runs from the repo root; the app lives in web/ and builds to web/dist,
// which the gateway serves on the same origin as /api and /ws.
export default defineConfig(({ command }) => ({
  root: fileURLToPath(new URL(".", import.meta.url)),
  // A build is what the gateway serves: always React's production build and production JSX, even when the build
  // runs under jest (NODE_ENV=test), which would otherwise bundle the development build (144 kB gzip, not 82).
  define: command === "build" ? { "process.env.NODE_ENV": JSON.stringify("production") } : {},
  // No @vitejs/plugin-react: Vite 8 transforms JSX itself through oxc.
  oxc: { jsx: { runtime: "automatic", development: command !== "build" } },
  plugins: [reportEntrySize()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // No public source maps: the gateway would serve them to anyone (it also refuses *.map outright).
    sourcemap: false,
    target: "es2022",
    // The client imports constants from runtime/contracts, whose zod schemas it never uses; marking zod's
    // builders pure lets the bundler drop those schemas (and most of zod) instead of shipping them.
    rolldownOptions: { treeshake: { manualPureFunctions: ["z"] } },
  },
}));
