import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { tableKeys, tableNamesFor, tables, type TableKey } from "../runtime/contracts";
import { configKeys } from "./config-keys";
import { tableShape } from "./table-shape";
import type { Tags } from "./types";

export interface TablesArgs {
  /** Deployment prefix; physical names are `${namePrefix}-${suffix}` from the contracts. */
  readonly namePrefix: string;
  /** DynamoDB deletion protection on every table. */
  readonly deletionProtection?: pulumi.Input<boolean>;
  readonly tags?: Tags;
}

/**
 * Every DynamoDB table the contracts define — keys, GSIs and TTL taken from `runtime/contracts/tables.ts`,
 * the same definitions the local stack provisions — with on-demand billing, point-in-time recovery,
 * encryption at rest and deletion protection.
 */
export class Tables extends pulumi.ComponentResource {
  /** One table per contract key. */
  public readonly tables: Readonly<Record<TableKey, aws.dynamodb.Table>>;

  constructor(name: string, args: TablesArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("parley:tables:Tables", name, {}, opts);
    if (!args.namePrefix) throw new Error(`Tables ${name}: namePrefix is required`);
    const a = { deletionProtection: configKeys.deletionProtection.default as pulumi.Input<boolean>, ...args };

    const names = tableNamesFor(args.namePrefix);
    const out = {} as Record<TableKey, aws.dynamodb.Table>;
    for (const key of tableKeys) {
      out[key] = new aws.dynamodb.Table(
        `${name}-${key}`,
        {
          name: names[key],
          billingMode: "PAY_PER_REQUEST",
          ...tableShape(tables[key]),
          pointInTimeRecovery: { enabled: true },
          serverSideEncryption: { enabled: true },
          deletionProtectionEnabled: a.deletionProtection,
          tags: args.tags,
        },
        { parent: this },
      );
    }
    this.tables = out;

    this.registerOutputs({ tables: this.tables });
  }
}
