/**
 * `npm run dlq -- list|show|redrive <inbound|notify> [--dry-run] [--max n]`: inspect dead letters and move
 * them back after a fix. Reads the same env as the services (queue URLs, region, endpoints); with AWS
 * credentials in the environment it works against a deployed stack, and with nothing set against the
 * running `npm start`. docs/operations.md is the runbook.
 */
import { runCli } from "../runtime/cli/args";
import { runDlq } from "./dlq/cli";

void runCli("dlq", () => runDlq(process.argv.slice(2), process.env, { out: (line) => console.log(line) }));
