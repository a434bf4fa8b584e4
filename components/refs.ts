/**
 * From the references of components/types.ts to the plain values a policy document takes: every named table's
 * ARN, resolved together.
 */
import * as pulumi from "@pulumi/pulumi";
import type { TableRef } from "./types";

/** The ARNs of exactly `keys`, as one record once all of them are known. */
export function tableArnsOf<K extends string>(
  keys: readonly K[],
  tables: Readonly<Record<K, TableRef>>,
): pulumi.Output<Record<K, string>> {
  return pulumi
    .all(keys.map((key) => pulumi.output(tables[key].arn)))
    .apply((arns) => Object.fromEntries(keys.map((key, i) => [key, arns[i]!])) as Record<K, string>);
}
