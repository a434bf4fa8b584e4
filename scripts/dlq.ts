/**
 * `npm run dlq -- list|show|redrive <inbound|notify> [--dry-run] [--max n]`: inspect dead letters and move
 * them back after a fix. Reads the same env as the services (queue URLs, region, endpoints); with AWS
 * credentials in the environment it works against a deployed stack. docs/operations.md is the runbook.
 */
import { runDlq } from "./dlq/cli";

runDlq(process.argv.slice(2), process.env, { out: (line) => console.log(line) }).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`dlq: ${(err as Error).stack ?? String(err)}`);
    process.exit(1);
  },
);
