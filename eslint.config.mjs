import js from "@eslint/js";
import tseslint from "typescript-eslint";
import { createNodeResolver, importX } from "eslint-plugin-import-x";

const root = import.meta.dirname;

/**
 * The layers and what each may import. A zone forbids `target` files to import `from` files (paths from the
 * repository root); `except` paths are relative to `from`. Import cycles are checked by scripts/import-cycles.ts,
 * which, unlike import-x/no-cycle, counts type-only imports.
 */
const layerZones = [
  {
    target: "./web/src",
    from: "./runtime",
    except: ["./contracts"],
    message: "The web client shares only runtime/contracts with the server.",
  },
  {
    target: "./web/src",
    from: ["./components", "./scripts", "./bench", "./policy", "./tests", "./index.ts"],
    message: "The web client shares only runtime/contracts with the server.",
  },
  {
    target: "./runtime",
    from: ["./components", "./web", "./scripts", "./bench", "./policy", "./tests", "./index.ts"],
    message: "Runtime code is deployed on its own: it never imports the Pulumi program, the web client or tooling.",
  },
  {
    target: "./runtime/contracts",
    from: "./runtime",
    except: ["./contracts"],
    message: "Contracts are the shared vocabulary: every layer imports them, they import no other layer.",
  },
  {
    target: "./components",
    from: "./runtime",
    except: ["./contracts"],
    message: "Components take names, keys and env vars from runtime/contracts only, never runtime code.",
  },
  {
    target: ["./runtime/gateway", "./runtime/persister", "./runtime/store", "./runtime/aws"],
    from: ["./runtime/local", "./runtime/smoke", "./runtime/cli"],
    message: "Deployed code never imports the local stack, the smoke client or the CLI toolkit.",
  },
  {
    target: "./runtime/gateway",
    from: "./runtime/persister",
    message: "Gateway and persister meet only through the queues and tables in runtime/contracts.",
  },
  {
    target: "./runtime/persister",
    from: "./runtime/gateway",
    message: "Gateway and persister meet only through the queues and tables in runtime/contracts.",
  },
  {
    target: "./runtime/store",
    from: ["./runtime/gateway", "./runtime/persister"],
    message: "The store serves the gateway and the persister; it never imports them.",
  },
];

export default tseslint.config(
  {
    ignores: [
      "node_modules/**",
      "web/dist/**",
      "bin/**",
      "data/**",
      "bench/results/**",
      "test-results/**",
      "**/*.js",
      "**/*.mjs",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-console": "off",
    },
  },
  {
    plugins: { "import-x": importX },
    settings: {
      "import-x/resolver-next": [createNodeResolver({ extensions: [".ts", ".tsx", ".mts", ".js", ".json", ".node"] })],
    },
    rules: {
      "import-x/no-restricted-paths": ["error", { basePath: root, zones: layerZones }],
    },
  },
  {
    // The browser bundle and the contracts it shares run without Node: no built-in modules, and so no Node types.
    files: ["runtime/contracts/**", "web/src/**"],
    rules: { "import-x/no-nodejs-modules": "error" },
  },
);
