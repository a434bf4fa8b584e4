/**
 * The Persister component: the bundled runtime/persister handler as a Lambda function fed by the inbound FIFO
 * queue, with its role, log group and alarms. Arg defaults and ranges are the stack config's
 * (components/config-keys.ts).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { mathAlarm, metricAlarm } from "./alerts";
import { env, persisterEnvVars, persisterTables, queues, tables } from "../runtime/contracts";
import { argDefaults, intArgErrors, type IntArgKeys } from "./config-keys";
import {
  assumeRolePolicyDocument,
  iamRoleName,
  isSupportedNodeRuntime,
  persisterPolicyDocument,
  visibilityCoversRetries,
} from "./policies";
import { tableArnsOf } from "./refs";
import type { AlarmActions, PersisterTableKey, QueueRef, TableRef, Tags } from "./types";

/** Failed invocations, in percent of all in 5 minutes, above which the error-rate alarm fires. */
export const PERSISTER_ERROR_RATE_PERCENT = 5;

/** Lambda's partial-batch response for SQS sources. */
export interface SqsBatchResult {
  batchItemFailures: { itemIdentifier: string }[];
}

/** The persister handler as Lambda calls it (event shape left to the runtime module). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type PersisterHandler = (event: any, context?: any) => Promise<SqsBatchResult>;

export interface PersisterArgs {
  readonly namePrefix: string;
  /**
   * Absolute path of the handler module (runtime/persister/lambda.ts). It must export
   * `createHandler(): handler`, read its config from process.env and build its SDK clients inside.
   */
  readonly handlerEntry: string;
  readonly inboundQueue: QueueRef;
  /** The inbound queue's visibility timeout, checked against the function timeout (plain: validated here). */
  readonly inboundVisibilityTimeoutSeconds: number;
  readonly notifyQueue: QueueRef;
  /** Exactly the contracts' persister tables. */
  readonly tables: Readonly<Record<PersisterTableKey, TableRef>>;
  readonly memoryMb?: number;
  readonly timeoutSeconds?: number;
  /** Records per invocation; FIFO sources allow at most 10. */
  readonly batchSize?: number;
  /** Concurrent invocations the SQS event source may drive (Lambda allows 2-1000). */
  readonly maxConcurrency?: number;
  /**
   * How long after sending a message may be edited: the gateways must get the same value, or they accept edits
   * the persister then refuses.
   */
  readonly editWindowSeconds?: number;
  readonly runtime?: string;
  readonly logRetentionDays?: number;
  readonly alarmActions?: AlarmActions;
  readonly tags?: Tags;
}

/** Each integer arg and the stack config key it mirrors (its default and range). */
const persisterArgKeys = {
  memoryMb: "persisterMemoryMb",
  timeoutSeconds: "persisterTimeoutSeconds",
  batchSize: "persisterBatchSize",
  maxConcurrency: "persisterMaxConcurrency",
  editWindowSeconds: "editWindowSeconds",
  logRetentionDays: "logRetentionDays",
} as const satisfies IntArgKeys<string>;
/** The timeout's bound is the visibility timeout passed in, not the stack's inbound queue: checked on its own. */
const { timeoutSeconds: _checkedAgainstVisibility, ...rangedPersisterArgKeys } = persisterArgKeys;

/**
 * Bundles the handler module and everything it imports (contracts, store, zod, the AWS SDK v3 clients)
 * into one CommonJS text. Why not let Pulumi serialize the imported module by value: the runtime holds
 * zod schemas at module level (e.g. runtime/contracts/messages.ts `inboundMessageSchema`, used by
 * runtime/persister/persist-batch.ts), and serializing a zod object by value walks into zod's internal
 * files (`zod/v4/core/*.cjs`) that zod's package.json `exports` does not expose, so closure
 * serialization fails. A bundle has no such edges and needs no node_modules in the archive.
 */
export function bundleHandler(entry: string): string {
  // esbuild ships with tsx and vite; it runs at deploy time only.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuild = require("esbuild") as typeof import("esbuild");
  const result = esbuild.buildSync({
    entryPoints: [entry],
    bundle: true,
    platform: "node",
    target: "node22",
    format: "cjs",
    write: false,
    legalComments: "none",
    logLevel: "silent",
  });
  const file = result.outputFiles[0];
  if (!file) throw new Error(`bundling ${entry} produced no output`);
  return file.text;
}

/** Every direct dependency: the bundle carries what the handler needs, so the archive holds no node_modules. */
function projectDependencies(): string[] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const pkg = require("../package.json") as { dependencies?: Record<string, string> };
  return Object.keys(pkg.dependencies ?? {});
}

/**
 * The persister: an `aws.lambda.CallbackFunction` (its factory captures the bundled runtime/persister
 * module by value, so nothing local is `require`d in Lambda) fed by the inbound FIFO queue through an event source
 * mapping that reports partial batch failures, with its own least-privilege role (exact queue and table
 * ARNs), a log group with retention and alarms on the error rate and on throttles.
 */
export class Persister extends pulumi.ComponentResource {
  /** The function. */
  public readonly function: aws.lambda.CallbackFunction<unknown, SqsBatchResult>;
  /** The inbound queue → function mapping. */
  public readonly eventSourceMapping: aws.lambda.EventSourceMapping;
  /** Fires when more than PERSISTER_ERROR_RATE_PERCENT of invocations in 5 minutes fail. */
  public readonly errorRateAlarm: aws.cloudwatch.MetricAlarm;
  /** Fires on any throttled invocation. */
  public readonly throttleAlarm: aws.cloudwatch.MetricAlarm;

  constructor(name: string, args: PersisterArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("parley:persister:Persister", name, {}, opts);

    const a = {
      ...argDefaults(persisterArgKeys),
      runtime: aws.lambda.Runtime.NodeJS22dX as string,
      alarmActions: [] as AlarmActions,
      ...args,
    };
    if (!isSupportedNodeRuntime(a.runtime)) {
      throw new Error(`Persister ${name}: runtime must be nodejs22.x or newer, got "${a.runtime}"`);
    }
    const [rangeError] = intArgErrors(rangedPersisterArgKeys, a);
    if (rangeError) throw new Error(`Persister ${name}: ${rangeError}`);
    if (!visibilityCoversRetries(a.inboundVisibilityTimeoutSeconds, a.timeoutSeconds)) {
      throw new Error(
        `Persister ${name}: inboundVisibilityTimeoutSeconds (${a.inboundVisibilityTimeoutSeconds}) must be at least 6 x timeoutSeconds (${a.timeoutSeconds})`,
      );
    }
    for (const key of persisterTables) {
      if (!args.tables[key]) throw new Error(`Persister ${name}: tables.${key} is required`);
    }

    if (!args.handlerEntry) throw new Error(`Persister ${name}: handlerEntry is required`);
    const bundle = bundleHandler(args.handlerEntry);

    const functionName = `${args.namePrefix}-persister`;
    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      { name: `/aws/lambda/${functionName}`, retentionInDays: a.logRetentionDays, tags: args.tags },
      { parent: this },
    );

    const role = new aws.iam.Role(
      `${name}-role`,
      {
        name: aws
          .getRegionOutput({}, { parent: this })
          .region.apply((r) => iamRoleName(args.namePrefix, "persister", r)),
        assumeRolePolicy: assumeRolePolicyDocument("lambda.amazonaws.com"),
        tags: args.tags,
      },
      { parent: this },
    );
    const policy = new aws.iam.RolePolicy(
      `${name}-policy`,
      {
        role: role.id,
        policy: pulumi
          .all([args.inboundQueue.arn, args.notifyQueue.arn, logGroup.arn, tableArnsOf(persisterTables, args.tables)])
          .apply(([inboundQueueArn, notifyQueueArn, logGroupArn, tableArns]) =>
            JSON.stringify(persisterPolicyDocument({ inboundQueueArn, notifyQueueArn, logGroupArn, tableArns })),
          ),
      },
      { parent: this },
    );

    const variables: Record<string, pulumi.Input<string>> = {
      [queues.notify.envVar]: args.notifyQueue.url,
      // Its own source queue: failed records' visibility is shortened there (retry backoff, poison to the DLQ).
      [queues.inbound.envVar]: args.inboundQueue.url,
      // It checks each edit again at its place in the order, against the window the gateways check on arrival.
      [env.editWindowSeconds]: String(a.editWindowSeconds),
    };
    for (const key of persisterTables) variables[tables[key].envVar] = args.tables[key].name;
    const missing = persisterEnvVars.filter((v) => !(v in variables));
    if (missing.length) throw new Error(`Persister ${name}: no value for ${missing.join(", ")}`);

    this.function = new aws.lambda.CallbackFunction<unknown, SqsBatchResult>(
      `${name}-function`,
      {
        name: functionName,
        role: role.arn,
        runtime: a.runtime,
        memorySize: a.memoryMb,
        timeout: a.timeoutSeconds,
        environment: { variables },
        loggingConfig: { logFormat: "Text", logGroup: logGroup.name },
        // Serialized by value into __index.js: the factory and the bundle text it captures. At cold start it
        // evaluates the bundle as a CommonJS module and asks it for the handler.
        callbackFactory: () => {
          const mod: { exports: { createHandler?: () => PersisterHandler } } = { exports: {} };
          new Function("module", "exports", "require", bundle)(mod, mod.exports, require);
          if (typeof mod.exports.createHandler !== "function") throw new Error("persister bundle has no createHandler");
          return mod.exports.createHandler();
        },
        codePathOptions: { extraExcludePackages: projectDependencies() },
        tags: args.tags,
      },
      { parent: this, dependsOn: [policy, logGroup] },
    );

    this.eventSourceMapping = new aws.lambda.EventSourceMapping(
      `${name}-source`,
      {
        eventSourceArn: args.inboundQueue.arn,
        functionName: this.function.arn,
        batchSize: a.batchSize,
        // Without a cap a backlog scales the function up to the account's concurrency, starving other functions
        // and hammering DynamoDB; per-conversation order makes more than a few pollers pointless anyway.
        scalingConfig: { maximumConcurrency: a.maxConcurrency },
        functionResponseTypes: ["ReportBatchItemFailures"],
        enabled: true,
      },
      // Lambda checks the role can read the queue when the mapping is created.
      { parent: this, dependsOn: [policy] },
    );

    const target = { actions: a.alarmActions, tags: args.tags };
    const fn = { FunctionName: this.function.name };
    // A rate, not a count: one transient failure among thousands of invocations is noise, 5 % is an outage.
    this.errorRateAlarm = mathAlarm(
      `${name}-error-rate`,
      {
        description: pulumi.interpolate`${functionName} fails more than ${PERSISTER_ERROR_RATE_PERCENT} % of its invocations: whole batches are being retried towards the DLQ.`,
        expression: "IF(invocations > 0, 100 * errors / invocations, 0)",
        label: "Error rate (%)",
        metrics: {
          errors: { namespace: "AWS/Lambda", metricName: "Errors", dimensions: fn, statistic: "Sum" },
          invocations: { namespace: "AWS/Lambda", metricName: "Invocations", dimensions: fn, statistic: "Sum" },
        },
        period: 300,
        evaluationPeriods: 1,
        threshold: PERSISTER_ERROR_RATE_PERCENT,
      },
      target,
      { parent: this },
    );
    this.throttleAlarm = metricAlarm(
      `${name}-throttles`,
      {
        description: pulumi.interpolate`${functionName} is throttled: the account's Lambda concurrency is exhausted (a fresh account has 10), and every throttled receive counts towards the inbound DLQ.`,
        namespace: "AWS/Lambda",
        metricName: "Throttles",
        dimensions: fn,
        statistic: "Sum",
        period: 300,
        evaluationPeriods: 1,
        threshold: 0,
      },
      target,
      { parent: this },
    );

    this.registerOutputs({
      function: this.function,
      eventSourceMapping: this.eventSourceMapping,
      errorRateAlarm: this.errorRateAlarm,
      throttleAlarm: this.throttleAlarm,
    });
  }
}
