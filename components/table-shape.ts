/**
 * The aws.dynamodb.Table arguments of one contract table (keys, GSIs, TTL from runtime/contracts/tables.ts),
 * mirroring runtime/local/provision.ts. Pure, so a test reads it without mocks.
 */
import { keyAttributesOf, type TableDefinition } from "../runtime/contracts";

export interface TableShape {
  readonly attributes: { name: string; type: string }[];
  readonly hashKey: string;
  readonly rangeKey?: string;
  readonly globalSecondaryIndexes?: {
    name: string;
    keySchemas: { attributeName: string; keyType: "HASH" | "RANGE" }[];
    projectionType: "ALL" | "INCLUDE";
    nonKeyAttributes?: string[];
  }[];
  readonly ttl?: { attributeName: string; enabled: true };
}

export function tableShape(def: TableDefinition): TableShape {
  return {
    attributes: keyAttributesOf(def),
    hashKey: def.partitionKey.name,
    ...(def.sortKey ? { rangeKey: def.sortKey.name } : {}),
    ...(def.indexes.length
      ? {
          globalSecondaryIndexes: def.indexes.map((gsi) => ({
            name: gsi.name,
            keySchemas: [
              { attributeName: gsi.partitionKey.name, keyType: "HASH" as const },
              ...(gsi.sortKey ? [{ attributeName: gsi.sortKey.name, keyType: "RANGE" as const }] : []),
            ],
            ...(gsi.nonKeyAttributes
              ? { projectionType: "INCLUDE" as const, nonKeyAttributes: [...gsi.nonKeyAttributes] }
              : { projectionType: "ALL" as const }),
          })),
        }
      : {}),
    ...(def.ttlAttribute ? { ttl: { attributeName: def.ttlAttribute, enabled: true as const } } : {}),
  };
}
