/** Command-line parsing for `npm run dlq`; every mistake is a UsageError (exit code 2). */
import { parseArgs as parseNodeArgs } from "node:util";
import { queueKeys, type QueueKey } from "../../runtime/contracts";

export const commands = ["list", "show", "redrive"] as const;
export type DlqCommand = (typeof commands)[number];

export interface DlqArgs {
  readonly command: DlqCommand;
  /** `list` without a queue lists every queue. */
  readonly queue?: QueueKey;
  readonly dryRun: boolean;
  /** Most dead letters to show or move; show defaults to 10, redrive to all. */
  readonly max: number;
  /** Deployment prefix used to find queues by name when their URL env vars are unset (local: parley-local). */
  readonly prefix?: string;
  readonly sqsEndpoint?: string;
  readonly region?: string;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export const usage = `usage: npm run dlq -- <list|show|redrive> [${queueKeys.join("|")}] [--dry-run] [--max n]
         [--prefix <name prefix>] [--sqs-endpoint <url>] [--region <aws-region>]

  list      messages waiting and dead-lettered, per queue (all queues when none is named)
  show      dead letters with receive count, group, sent time and the reason when it can be derived
  redrive   move dead letters back to their queue (FIFO: per group in order, fresh dedupe id), deleting each
            from the DLQ only after the send succeeded; --dry-run shows what would move and changes nothing

Queues are found through the env the services use (${queueKeys.map((k) => `${k}: queue URL var`).join(", ")}),
their RedrivePolicy names the DLQ. Without the URL vars, queues are looked up by name: <prefix>-<queue>
(default prefix parley-local, the local stack). Locally pass --sqs-endpoint (printed by npm start).`;

export function parseDlqArgs(argv: readonly string[]): DlqArgs {
  let parsed;
  try {
    parsed = parseNodeArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        "dry-run": { type: "boolean", default: false },
        max: { type: "string" },
        prefix: { type: "string" },
        "sqs-endpoint": { type: "string" },
        region: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  const [command, queue, ...extra] = positionals;
  if (values.help || command === undefined) throw new UsageError("no command given");
  if (!(commands as readonly string[]).includes(command)) {
    throw new UsageError(`unknown command "${command}", expected one of ${commands.join(", ")}`);
  }
  if (extra.length) throw new UsageError(`unexpected argument "${extra[0]}"`);
  if (queue !== undefined && !(queueKeys as readonly string[]).includes(queue)) {
    throw new UsageError(`unknown queue "${queue}", expected one of ${queueKeys.join(", ")}`);
  }
  if (command !== "list" && queue === undefined)
    throw new UsageError(`${command} needs a queue: ${queueKeys.join("|")}`);
  if (values["dry-run"] && command !== "redrive") throw new UsageError("--dry-run only applies to redrive");
  let max = command === "show" ? 10 : Number.POSITIVE_INFINITY;
  if (values.max !== undefined) {
    max = Number(values.max);
    if (!Number.isInteger(max) || max < 1)
      throw new UsageError(`--max must be a positive integer, got "${values.max}"`);
  }
  if (values["sqs-endpoint"] !== undefined && !/^https?:\/\/\S+$/.test(values["sqs-endpoint"])) {
    throw new UsageError(`--sqs-endpoint must be a URL, got "${values["sqs-endpoint"]}"`);
  }
  return {
    command: command as DlqCommand,
    queue: queue as QueueKey | undefined,
    dryRun: values["dry-run"],
    max,
    prefix: values.prefix,
    sqsEndpoint: values["sqs-endpoint"],
    region: values.region,
  };
}
