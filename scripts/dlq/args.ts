/** Command-line parsing for `npm run dlq`; every mistake is a UsageError (exit code 2). */
import { defineCli, httpUrl, int, parseCli, UsageError } from "../../runtime/cli/args";
import { queueKeys, queues, type QueueKey } from "../../runtime/contracts";

export { UsageError };

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
  /** Where a running `npm start` left its state file; undefined = the repo's data/. */
  readonly dataDir?: string;
}

export const dlqCli = defineCli({
  command: "npm run dlq --",
  args: `<${commands.join("|")}> [${queueKeys.join("|")}]`,
  positionals: [
    ["list", "messages waiting and dead-lettered, per queue (all queues when none is named)"],
    ["show", "dead letters with receive count, group, sent time and the reason when it can be derived"],
    [
      "redrive",
      "move dead letters back to their queue (FIFO: per group in order, fresh dedupe id), deleting each from " +
        "the DLQ only after the send succeeded; --dry-run shows what would move and changes nothing",
    ],
  ],
  options: {
    "dry-run": { type: "boolean", description: "redrive only: show what would move, change nothing" },
    max: {
      type: "string",
      value: "n",
      description: "most dead letters to show or move",
      defaultText: "10 for show, all for redrive",
      parse: int(1),
    },
    prefix: {
      type: "string",
      value: "name prefix",
      description: "find queues by name, <prefix>-<queue>, instead of through the URL env vars",
      defaultText: "parley-local, the local stack",
    },
    "sqs-endpoint": {
      type: "string",
      value: "url",
      description: "SQS endpoint, e.g. the fauxqs URL npm start prints",
      defaultText: "$PARLEY_SQS_ENDPOINT, else the running npm start's, else AWS",
      parse: httpUrl,
    },
    region: {
      type: "string",
      value: "aws-region",
      description: "AWS region",
      defaultText: "$AWS_REGION, else us-east-1",
    },
    data: {
      type: "string",
      value: "dir",
      description: "data folder of the running npm start (its local-stack.json names the queues)",
      defaultText: "data/",
    },
  },
  notes:
    `Queues are found through the env the services use (${queueKeys.map((k) => queues[k].envVar).join(", ")}); ` +
    "their RedrivePolicy names the DLQ. With neither those vars, --sqs-endpoint, $PARLEY_SQS_ENDPOINT nor " +
    "--prefix, the tool uses the stack a running `npm start` describes in <data>/local-stack.json. With --prefix " +
    "(or only an endpoint) queues are looked up by name. Exit codes: 0 done, 1 failed, 2 usage.",
});

export function parseDlqArgs(argv: readonly string[]): DlqArgs {
  const { values, positionals } = parseCli(dlqCli, argv);
  const [command, queue, ...extra] = positionals;
  if (command === undefined) throw new UsageError("no command given");
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
  return {
    command: command as DlqCommand,
    queue: queue as QueueKey | undefined,
    dryRun: values["dry-run"],
    max: values.max ?? (command === "show" ? 10 : Number.POSITIVE_INFINITY),
    prefix: values.prefix,
    sqsEndpoint: values["sqs-endpoint"],
    region: values.region,
    dataDir: values.data,
  };
}
