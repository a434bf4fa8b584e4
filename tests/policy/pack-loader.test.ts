/**
 * `pulumi preview --policy-pack policy` starts the pack with @pulumi/pulumi's run-policy-pack: ts-node with
 * type-checking on, policy/tsconfig.json and the project's TypeScript. This runs exactly that; the pack
 * compiles, loads and serves when it prints its gRPC port. (The engine address is never dialled at start.)
 */
import { spawn } from "node:child_process";
import path from "node:path";

// Type-checking the pack and what it imports takes a minute or two on two cores.
jest.setTimeout(300_000);

test("the pack compiles and serves under Pulumi's own policy-pack runner", async () => {
  const runner = require.resolve("@pulumi/pulumi/cmd/run-policy-pack");
  const child = spawn(process.execPath, [runner, "127.0.0.1:1", "."], {
    cwd: path.resolve(__dirname, "../../policy"),
    env: { ...process.env, NODE_NO_WARNINGS: "1" },
  });
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout.on("data", (d) => {
      stdout += d;
      const m = /^(\d+)\s*$/m.exec(stdout);
      if (m) resolve(m[1]!);
    });
    child.on("exit", (code) => reject(new Error(`pack exited with ${code} before serving:\n${stderr}`)));
  }).finally(() => child.kill());
  expect(Number(port)).toBeGreaterThan(0);
});
