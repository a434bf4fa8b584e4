/**
 * Child-process entry for pulumi-loader.test.ts: loads index.ts the way `pulumi up` does — the same
 * ts-node registration as @pulumi/pulumi/cmd/run/run.js for a CommonJS TypeScript project (the SDK's
 * vendored ts-node unless one is installed, the project's TypeScript and tsconfig, type-checking on) —
 * under mocks, and prints one JSON line with what was registered. Plain CommonJS so it runs before any
 * TypeScript loader exists.
 */
/* global require, __dirname, process, setTimeout */
/* eslint-disable @typescript-eslint/no-require-imports */
"use strict";
const path = require("node:path");

const root = path.resolve(__dirname, "../..");
process.chdir(root);

const tsutils = require("@pulumi/pulumi/tsutils");
const { tsnodeRequire, typescriptRequire } = tsutils.typeScriptRequireStrings();
const compilerOptions = tsutils.loadTypeScriptCompilerOptions("tsconfig.json");
const ts = require(typescriptRequire);
const [major, minor] = ts.version.split(".").map(Number);
const useNodeNext = major > 4 || (major === 4 && minor >= 7);
require(tsnodeRequire).register({
  compiler: typescriptRequire,
  transpileOnly: compilerOptions.noCheck,
  project: "tsconfig.json",
  skipProject: false,
  compilerOptions: {
    target: "ES2020",
    module: useNodeNext ? "nodenext" : "commonjs",
    moduleResolution: useNodeNext ? "nodenext" : "node",
    sourceMap: "true",
    ...compilerOptions,
  },
});

async function main() {
  const pulumi = require("@pulumi/pulumi");
  const { stateFor, callResult, enableTransforms } = require("./mocks");
  const types = [];
  await pulumi.runtime.setMocks(
    {
      newResource: (a) => {
        types.push(a.type);
        return stateFor(a.type, a.name, a.inputs);
      },
      call: (a) => callResult(a.token),
    },
    "parley",
    "dev",
    false,
  );
  await enableTransforms();
  pulumi.runtime.setAllConfig({
    "aws:region": "us-east-1",
    "parley:deletionProtection": "false",
    "parley:allowInsecureHttp": "true",
  });
  const program = require(path.join(root, "index.ts"));
  const appUrl = await new Promise((r) => program.appUrl.apply(r));
  // The function registers last (after its code is bundled and serialized); then let stragglers land.
  const deadline = Date.now() + 120_000;
  while (!types.includes("aws:lambda/eventSourceMapping:EventSourceMapping") && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
  }
  await new Promise((r) => setTimeout(r, 1000));
  process.stdout.write(
    JSON.stringify({ typescript: ts.version, tsnode: tsnodeRequire, exports: Object.keys(program), appUrl, types }) +
      "\n",
  );
  process.exit(0);
}

process.on("unhandledRejection", (e) => {
  process.stderr.write(`unhandled rejection: ${String((e && e.stack) || e)}\n`);
  process.exit(1);
});
main().catch((e) => {
  process.stderr.write(`failed: ${String((e && e.stack) || e)}\n`);
  process.exit(1);
});
