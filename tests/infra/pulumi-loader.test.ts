/**
 * `pulumi up` loads index.ts through @pulumi/pulumi's ts-node registration (no ts-node is installed here, so
 * the SDK's vendored one) with the project's TypeScript and tsconfig. This runs exactly that, under mocks,
 * in a child process: the program must type-check and load, and register the same kinds of resources.
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";

// Type-checking the whole program with the project's TypeScript takes about a minute on two cores.
jest.setTimeout(300_000);

const run = promisify(execFile);

test("index.ts loads through Pulumi's own TypeScript loader and registers the stack", async () => {
  // The child exits right after printing; Pulumi's exit hook then complains about the mock monitor's
  // still-pending promises and sets a non-zero code, so the printed line is the verdict.
  const stdout = await run(process.execPath, [path.join(__dirname, "pulumi-loader.cjs")], {
    env: { ...process.env, NODE_NO_WARNINGS: "1" },
    timeout: 280_000,
    maxBuffer: 16 * 1024 * 1024,
  }).then(
    (r) => r.stdout,
    (err: { stdout?: string; stderr?: string }) => {
      if (!err.stdout?.includes('"exports"')) throw new Error(`loader failed:\n${err.stderr}`);
      return err.stdout;
    },
  );
  const out = JSON.parse(stdout.trim().split("\n").pop()!) as {
    typescript: string;
    exports: string[];
    appUrl: string;
    types: string[];
  };
  expect(out.exports).toEqual(
    expect.arrayContaining(["appUrl", "wsUrl", "inboundQueueUrl", "notifyQueueUrl", "tableNames", "dashboardUrl"]),
  );
  expect(out.appUrl).toMatch(/^http:\/\/.+\.elb\.amazonaws\.com$/);
  for (const type of [
    "aws:lambda/function:Function",
    "aws:lambda/eventSourceMapping:EventSourceMapping",
    "awsx:ecs:FargateService",
    "awsx:lb:ApplicationLoadBalancer",
    "aws:dynamodb/table:Table",
    "aws:sqs/queue:Queue",
  ]) {
    expect(out.types).toContain(type);
  }
});
