/**
 * Parley's AWS bill at list price (bench/pricing.ts), from what one run counted: cost per million messages over the
 * main phases, and cost per connection-month over the idle window.
 */
import { DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import { localClientConfig, loadAwsConfig, loadTableNames } from "../runtime/contracts";
import { tableKeys, tables as tableDefs } from "../runtime/contracts/tables";
import type { LocalStack } from "../runtime/local/stack";
import type { CallCounts, CounterReading } from "./metrics";
import {
  breakdown,
  DEPLOYMENT,
  fargateTaskMonthUsd,
  HOURS_PER_MONTH,
  lambdaInvocationUsd,
  priceBilling,
  sampleTable,
  type CostBreakdown,
  type TableSample,
} from "./pricing";
import type { SystemUnderTest } from "./system";

/** Items read per table to size writes: enough for a stable mean, few enough to stay out of the measured calls. */
const SAMPLE_ITEMS = 100;

/** Stored item sizes per physical table name, read by the harness (not metered) with one Scan page each. */
export async function sampleTables(stack: LocalStack): Promise<Record<string, TableSample>> {
  const e = stack.gatewayBaseEnv;
  const names = loadTableNames(e);
  // The plain client: sizes are measured on the items as stored (attribute values), not unmarshalled.
  const ddb = new DynamoDBClient(localClientConfig(loadAwsConfig(e).dynamodbEndpoint!));
  try {
    const out: Record<string, TableSample> = {};
    for (const key of tableKeys) {
      const page = await ddb.send(new ScanCommand({ TableName: names[key], Limit: SAMPLE_ITEMS }));
      out[names[key]] = sampleTable(tableDefs[key], page.Items ?? []);
    }
    return out;
  } finally {
    ddb.destroy();
  }
}

function sumOver(readings: readonly CallCounts[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of readings)
    for (const byKey of Object.values(r)) for (const [k, n] of Object.entries(byKey)) out[k] = (out[k] ?? 0) + n;
  return out;
}

const usd = (n: number) => `$${n.toPrecision(3)}`;

function tableAssumptions(tables: Readonly<Record<string, TableSample>>, sampledAfter = "the main phases"): string {
  return (
    `write units per item (index entries) from the stored items, sampled after ${sampledAfter}: ` +
    Object.entries(tables)
      .map(
        ([name, t]) =>
          `${name.replace(/^.*-/, "")} ${t.itemUnits.toFixed(2)}` +
          Object.entries(t.indexUnits)
            .map(([i, u]) => ` + ${i} ${u.toFixed(2)}`)
            .join(""),
      )
      .join("; ")
  );
}

const COMMON = [
  "list prices, us-east-1, no free tier, on-demand DynamoDB (bench/pricing.ts)",
  "reads billed per 4 KB of the response body, an upper bound on the items' size; BatchGetItem per item",
  "the local persister runner's SQS receives and deletes stand in for the Lambda event source mapping's pollers",
  "gateway ↔ gateway HTTP and data transfer are not priced",
];

/** Dollars per million sent messages over the main phases: every process's calls, and the persister's Lambda. */
export function costPerMillionMessages(
  sut: SystemUnderTest,
  tables: Readonly<Record<string, TableSample>>,
): CostBreakdown {
  const sent = sut.phases.reduce((n, p) => n + p.recorder.sent, 0);
  return costPerMillionEntries(sut.phases, sent, `${sent} messages sent over the main phases`, tables);
}

/**
 * Dollars per million of `entries` (messages, reactions, …) from what some phases counted: their billed calls,
 * and one persister Lambda invocation per batch it handled (each ends in one DeleteMessageBatch).
 */
export function costPerMillionEntries(
  readings: readonly CounterReading[],
  entries: number,
  what: string,
  tables: Readonly<Record<string, TableSample>>,
  sampledAfter?: string,
): CostBreakdown {
  const millions = Math.max(1, entries) / 1e6;
  const byCall = priceBilling(sumOver(readings.map((p) => p.billing)), tables, () => millions);
  const invocations = readings.reduce((n, p) => n + (p.calls.persister?.["AmazonSQS.DeleteMessageBatch"] ?? 0), 0);
  const lambda = lambdaInvocationUsd(DEPLOYMENT.persisterMemoryMb, DEPLOYMENT.persisterMsPerInvocation);
  byCall["lambda:Invoke"] = (invocations * lambda.request) / millions;
  byCall["lambda:Duration"] = (invocations * lambda.duration) / millions;
  return breakdown(byCall, [
    ...COMMON,
    `${what}; ${invocations.toFixed(0)} persister invocations (its DeleteMessageBatch calls)`,
    `Lambda at ${DEPLOYMENT.persisterMemoryMb} MB (components/config-keys.ts persisterMemoryMb), ` +
      `${DEPLOYMENT.persisterMsPerInvocation} ms per invocation (assumed)`,
    tableAssumptions(tables, sampledAfter),
  ]);
}

/**
 * Dollars per connection-month while connected and idle: calls that scale with connections (heartbeats, presence)
 * per bench connection, polling receives per process spread over the connections a task is assumed to hold, and
 * the gateway task's own price over those connections.
 */
export function costPerConnectionMonth(
  sut: SystemUnderTest,
  tables: Readonly<Record<string, TableSample>>,
  gateways: number,
): CostBreakdown {
  const idle = sut.idle;
  if (!idle) return breakdown({}, ["no idle measurement"]);
  const months = idle.seconds / 3600 / HOURS_PER_MONTH;
  const polling = (d: string) => d.split("|")[1] === "ReceiveMessage";
  const byCall = priceBilling(
    sumOver([idle.counters.billing]),
    tables,
    (d) => months * (polling(d) ? gateways * DEPLOYMENT.connectionsPerTask : Math.max(1, idle.connections)),
  );
  const task = fargateTaskMonthUsd(DEPLOYMENT.gatewayVcpu, DEPLOYMENT.gatewayMemoryGb);
  byCall["fargate:Task"] = task / DEPLOYMENT.connectionsPerTask;
  return breakdown(byCall, [
    ...COMMON,
    `${idle.connections} connections idle for ${idle.seconds.toFixed(1)} s, calls of every Parley process scaled to ` +
      `${HOURS_PER_MONTH} h a month`,
    `ReceiveMessage (polling, per process) spread over ${gateways} gateway tasks × ${DEPLOYMENT.connectionsPerTask} ` +
      "connections each (assumed); every other call counted per bench connection",
    `gateway task ${DEPLOYMENT.gatewayVcpu} vCPU / ${DEPLOYMENT.gatewayMemoryGb} GB (components/config-keys.ts) ` +
      `${usd(task)} a month ÷ ${DEPLOYMENT.connectionsPerTask} connections`,
    tableAssumptions(tables),
  ]);
}
