/**
 * List prices and the arithmetic that turns what the preload counted (bench/preload.mjs `billing` descriptors) and
 * the item sizes stored in the tables into dollars. Pure functions, unit-tested in tests/bench/pricing.test.ts.
 *
 * Each price: region us-east-1, as checked 2026-12-02, with its source. The AWS pages themselves were not in the
 * search corpus; where a figure rests on a third-party page that quotes the AWS page, the line says so.
 */
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { configKeys } from "../components/config-keys";
import type { TableDefinition } from "../runtime/contracts/tables";

export const PRICES = {
  /** us-east-1, 2026-12-02, https://aws.amazon.com/sqs/pricing/ (quoted by cloudburn.io/blog/amazon-sqs-pricing, March 2026). */
  sqsFifoPerRequest: 0.5 / 1e6,
  /** us-east-1, 2026-12-02, https://aws.amazon.com/sqs/pricing/ (first 100 billion requests a month). */
  sqsStandardPerRequest: 0.4 / 1e6,
  /** "Each 64 KB chunk of a payload is billed as 1 request": https://aws.amazon.com/sqs/pricing/ (quoted by unanswered.io). */
  sqsChunkBytes: 64 * 1024,
  /** us-east-1, 2026-12-02, https://aws.amazon.com/dynamodb/pricing/on-demand/ (after the Nov 2024 cut; airbyte.com quotes it). */
  dynamoWriteUnit: 0.625 / 1e6,
  /** us-east-1, 2026-12-02, https://aws.amazon.com/dynamodb/pricing/on-demand/ */
  dynamoReadUnit: 0.125 / 1e6,
  /** A write unit covers 1 KB, a read unit 4 KB strongly consistent (0.5 unit eventually consistent): DynamoDB developer guide, "Read/write capacity mode". */
  dynamoWriteUnitBytes: 1024,
  dynamoReadUnitBytes: 4096,
  /** us-east-1, 2026-12-02, https://aws.amazon.com/lambda/pricing/ (and the "How AWS Pricing Works" whitepaper). */
  lambdaPerRequest: 0.2 / 1e6,
  /** x86, us-east-1, 2026-12-02, https://aws.amazon.com/lambda/pricing/ (whitepaper: $0.00001667). */
  lambdaPerGbSecond: 0.0000166667,
  /** Linux/x86, us-east-1, 2026-12-02, https://aws.amazon.com/fargate/pricing/ (quoted by vantage.sh and cloudburn.io, 2026). */
  fargatePerVcpuHour: 0.04048,
  fargatePerGbHour: 0.004445,
} as const;

export const HOURS_PER_MONTH = 730;

/** What a deployment with the default config runs (components/config-keys.ts), and what the bench cannot measure. */
export const DEPLOYMENT = {
  persisterMemoryMb: configKeys.persisterMemoryMb.default,
  gatewayVcpu: configKeys.gatewayCpu.default / 1024,
  gatewayMemoryGb: configKeys.gatewayMemoryMb.default / 1024,
  /** Assumed, not measured: a batch's wall time in Lambda (a few DynamoDB round trips of ~5–10 ms each). */
  persisterMsPerInvocation: 100,
  /** Assumed: connections one gateway task holds (1 GB at the ~43 KB per connection measured, with half as headroom). */
  connectionsPerTask: 10_000,
} as const;

export interface CostBreakdown {
  readonly totalUsd: number;
  /** Dollars by billed call, e.g. `dynamodb:UpdateItem`, `sqs:ReceiveMessage`, `lambda:Invoke`, `fargate:Task`. */
  readonly byCall: Record<string, number>;
  readonly assumptions: string[];
}

/** DynamoDB's item size: attribute name bytes plus value bytes (numbers ~1 byte per 2 digits + 1). */
export function itemSizeBytes(item: Record<string, AttributeValue>): number {
  let n = 0;
  for (const [name, value] of Object.entries(item)) n += Buffer.byteLength(name) + valueSizeBytes(value);
  return n;
}

function valueSizeBytes(v: AttributeValue): number {
  if (v.S !== undefined) return Buffer.byteLength(v.S);
  if (v.N !== undefined) return numberSizeBytes(v.N);
  if (v.B !== undefined) return v.B.length;
  if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
  if (v.SS) return v.SS.reduce((n, s) => n + Buffer.byteLength(s), 0);
  if (v.NS) return v.NS.reduce((n, s) => n + numberSizeBytes(s), 0);
  if (v.BS) return v.BS.reduce((n, b) => n + b.length, 0);
  if (v.L) return 3 + v.L.reduce((n, e) => n + 1 + valueSizeBytes(e), 0);
  if (v.M) return 3 + Object.entries(v.M).reduce((n, [k, e]) => n + 1 + Buffer.byteLength(k) + valueSizeBytes(e), 0);
  return 0;
}

function numberSizeBytes(n: string): number {
  const digits = n.replace(/^-|\.|e.*$/gi, "").replace(/^0+/, "").length;
  return Math.ceil(digits / 2) + 1;
}

export const writeUnits = (bytes: number): number => Math.max(1, Math.ceil(bytes / PRICES.dynamoWriteUnitBytes));

/** Requests an SQS call is billed as: one per 64 KB of its payload. */
export const sqsRequests = (bytes: number): number => Math.max(1, Math.ceil(bytes / PRICES.sqsChunkBytes));

const keyNames = (k: {
  readonly partitionKey: { readonly name: string };
  readonly sortKey?: { readonly name: string };
}): string[] => [k.partitionKey.name, ...(k.sortKey ? [k.sortKey.name] : [])];

/** Mean write units of one table's items and of each index entry, from a sample of stored items. */
export interface TableSample {
  readonly def: TableDefinition;
  readonly items: number;
  readonly itemUnits: number;
  /** Per index: mean write units of its entry, counting 0 for items without the index's key (sparse). */
  readonly indexUnits: Record<string, number>;
}

export function sampleTable(def: TableDefinition, items: readonly Record<string, AttributeValue>[]): TableSample {
  const mean = (f: (item: Record<string, AttributeValue>) => number) =>
    items.length ? items.reduce((n, i) => n + f(i), 0) / items.length : 1;
  const tableKeys = keyNames(def);
  const indexUnits: Record<string, number> = {};
  for (const index of def.indexes) {
    const keys = keyNames(index);
    indexUnits[index.name] = mean((item) => {
      if (!keys.every((k) => item[k] !== undefined)) return 0;
      if (!index.nonKeyAttributes) return writeUnits(itemSizeBytes(item));
      const projected = new Set([...tableKeys, ...keys, ...index.nonKeyAttributes]);
      return writeUnits(itemSizeBytes(Object.fromEntries(Object.entries(item).filter(([k]) => projected.has(k)))));
    });
  }
  return { def, items: items.length, itemUnits: mean((i) => writeUnits(itemSizeBytes(i))), indexUnits };
}

/**
 * Write units of one write: the item's units, plus per index an entry write when the write touches an attribute
 * the index projects (a put or delete always does), two (delete + put) when it changes the index's key.
 * `attributes`: what an UpdateItem sets; `*` for a put, `-` for a delete.
 */
export function writeUnitsOf(sample: TableSample, attributes: string): number {
  let units = sample.itemUnits;
  const set = new Set(attributes.split(",").filter(Boolean));
  const whole = attributes === "*" || attributes === "-";
  for (const index of sample.def.indexes) {
    const keys = keyNames(index);
    const entry = sample.indexUnits[index.name] ?? 0;
    if (whole) units += entry;
    else if (keys.some((k) => set.has(k))) units += 2 * entry;
    else if (!index.nonKeyAttributes || index.nonKeyAttributes.some((a) => set.has(a))) units += entry;
  }
  return units;
}

/** A descriptor's dollars and the call it is listed under; `tables` maps physical table names to samples. */
export function priceDescriptor(
  descriptor: string,
  tables: Readonly<Record<string, TableSample>>,
): { call: string; usd: number } {
  const [kind, call, a, b] = descriptor.split("|");
  if (kind === "sqs") {
    const perRequest = a === "fifo" ? PRICES.sqsFifoPerRequest : PRICES.sqsStandardPerRequest;
    return { call: `sqs:${call}`, usd: Number(b) * perRequest };
  }
  if (kind === "read") {
    return { call: `dynamodb:${call}`, usd: Number(b) * (a === "strong" ? 1 : 0.5) * PRICES.dynamoReadUnit };
  }
  if (kind === "write") {
    const sample = tables[a!];
    // A table the sample missed (nothing stored yet): one unit for the item, none for indexes.
    const units = sample ? writeUnitsOf(sample, b ?? "") : 1;
    return { call: `dynamodb:${call}`, usd: units * PRICES.dynamoWriteUnit };
  }
  return { call: `unpriced:${call ?? kind}`, usd: 0 };
}

/** Descriptor counts → dollars by call, each count divided by `per` (e.g. messages sent / 1e6). */
export function priceBilling(
  billing: Readonly<Record<string, number>>,
  tables: Readonly<Record<string, TableSample>>,
  per: (descriptor: string) => number,
): Record<string, number> {
  const byCall: Record<string, number> = {};
  for (const [d, n] of Object.entries(billing)) {
    const { call, usd } = priceDescriptor(d, tables);
    byCall[call] = (byCall[call] ?? 0) + (usd * n) / per(d);
  }
  return byCall;
}

/** One Lambda invocation at the deployment's memory size for `ms` milliseconds. */
export function lambdaInvocationUsd(memoryMb: number, ms: number): { request: number; duration: number } {
  return { request: PRICES.lambdaPerRequest, duration: (memoryMb / 1024) * (ms / 1000) * PRICES.lambdaPerGbSecond };
}

export function fargateTaskMonthUsd(vcpu: number, memoryGb: number): number {
  return (vcpu * PRICES.fargatePerVcpuHour + memoryGb * PRICES.fargatePerGbHour) * HOURS_PER_MONTH;
}

export function breakdown(byCall: Record<string, number>, assumptions: string[]): CostBreakdown {
  const sorted = Object.fromEntries(Object.entries(byCall).sort((x, y) => y[1] - x[1]));
  return { totalUsd: Object.values(byCall).reduce((n, v) => n + v, 0), byCall: sorted, assumptions };
}
