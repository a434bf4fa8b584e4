import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import {
  fargateTaskMonthUsd,
  itemSizeBytes,
  lambdaInvocationUsd,
  priceBilling,
  priceDescriptor,
  PRICES,
  sampleTable,
  sqsRequests,
  writeUnitsOf,
} from "../../bench/pricing";
import { tables, type TableDefinition } from "../../runtime/contracts/tables";

/** The connections table as it was before byUser's projection was narrowed: byUser projects everything. */
const projectAll: TableDefinition = {
  ...tables.connections,
  indexes: tables.connections.indexes.map((index) => {
    if (index.name !== "byUser") return index;
    const { nonKeyAttributes: _included, ...all } = index;
    return all;
  }),
};

/** A connections item of about 1.5 KB: both indexes' keys present, `byUser` projects everything. */
const connection = (pad: number): Record<string, AttributeValue> => ({
  connectionId: { S: "c1" },
  userId: { S: "u1" },
  gatewayId: { S: "g1" },
  lastSeen: { N: "1700000000000" },
  expiresAt: { N: "1700000090" },
  pad: { S: "x".repeat(pad) },
});

describe("bench pricing", () => {
  it("sizes items by attribute names and values", () => {
    expect(itemSizeBytes({ ab: { S: "xyz" } })).toBe(5);
    expect(itemSizeBytes({ n: { N: "12345" } })).toBe(1 + 4);
    expect(itemSizeBytes({ f: { BOOL: true } })).toBe(2);
  });

  it("bills a 1.5 KB update with a GSI projecting all as 2 + 2 write units", () => {
    const sample = sampleTable(projectAll, [connection(1500)]);
    expect(sample.itemUnits).toBe(2);
    expect(sample.indexUnits.byUser).toBe(2);
    // byGateway projects userId only: keys + userId stay under 1 KB, and a heartbeat changes none of them.
    expect(sample.indexUnits.byGateway).toBe(1);
    expect(writeUnitsOf(sample, "expiresAt,lastSeen")).toBe(2 + 2);
    // A put writes every index entry; changing an index key is a delete plus a put there.
    expect(writeUnitsOf(sample, "*")).toBe(2 + 2 + 1);
    expect(writeUnitsOf(sample, "gatewayId")).toBe(2 + 2 + 2 * 1);
  });

  it("bills a refresh of attributes no index projects as the base-table write only (the connections table today)", () => {
    const sample = sampleTable(tables.connections, [connection(1500)]);
    expect(sample.itemUnits).toBe(2);
    // byUser projects gatewayId, internalUrl and connectedAt: the 1.5 KB pad is not in it.
    expect(sample.indexUnits.byUser).toBe(1);
    expect(writeUnitsOf(sample, "expiresAt,lastSeen")).toBe(2);
    expect(writeUnitsOf(sample, "*")).toBe(2 + 1 + 1);
  });

  it("counts no index entry for items without the index's key (sparse)", () => {
    const { gatewayId: _gone, ...item } = connection(10);
    const sample = sampleTable(tables.connections, [item]);
    expect(sample.indexUnits.byGateway).toBe(0);
    expect(writeUnitsOf(sample, "*")).toBe(1 + 1);
  });

  it("bills SQS per 64 KB chunk: a 70 KB send is 2 requests", () => {
    expect(sqsRequests(70 * 1024)).toBe(2);
    expect(sqsRequests(100)).toBe(1);
    expect(priceDescriptor("sqs|SendMessage|fifo|2", {}).usd).toBeCloseTo(2 * 0.5e-6, 12);
    expect(priceDescriptor("sqs|ReceiveMessage|standard|1", {}).usd).toBeCloseTo(0.4e-6, 12);
  });

  it("bills reads per 4 KB, half for eventually consistent", () => {
    expect(priceDescriptor("read|Query|eventual|3", {})).toEqual({
      call: "dynamodb:Query",
      usd: 1.5 * PRICES.dynamoReadUnit,
    });
    expect(priceDescriptor("read|GetItem|strong|1", {}).usd).toBe(PRICES.dynamoReadUnit);
  });

  it("sums descriptors by call, per the divisor given", () => {
    const t = { "p-connections": sampleTable(projectAll, [connection(1500)]) };
    const byCall = priceBilling(
      { "write|UpdateItem|p-connections|expiresAt,lastSeen": 10, "sqs|SendMessage|fifo|1": 4 },
      t,
      () => 2,
    );
    expect(byCall["dynamodb:UpdateItem"]).toBeCloseTo((10 * 4 * 0.625e-6) / 2, 12);
    expect(byCall["sqs:SendMessage"]).toBeCloseTo((4 * 0.5e-6) / 2, 12);
  });

  it("prices Lambda by requests and GB-seconds, Fargate by vCPU- and GB-hours", () => {
    const l = lambdaInvocationUsd(512, 100);
    expect(l.request).toBeCloseTo(0.2e-6, 15);
    expect(l.duration).toBeCloseTo(0.5 * 0.1 * 0.0000166667, 12);
    expect(fargateTaskMonthUsd(0.5, 1)).toBeCloseTo((0.5 * 0.04048 + 0.004445) * 730, 6);
  });
});
