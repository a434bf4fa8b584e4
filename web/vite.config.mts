import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

// `npm run build:web` runs from the repo root; the app lives in web/ and builds to web/dist,
// which the gateway serves on the same origin as /api and /ws.
export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  // No @vitejs/plugin-react: Vite 8 transforms JSX itself through oxc.
  oxc: { jsx: { runtime: "automatic" } },
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
});
