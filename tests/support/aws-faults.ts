/**
 * "AWS rules": a test-only layer over a real DynamoDB document client (dynalite or DynamoDB Local underneath)
 * that adds the behaviours of DynamoDB in AWS which the emulators do not have. It is injected where the code
 * takes a client — not a fake server: every call still reaches the real emulator.
 *
 * - **1 MB pages.** A Query or Scan page ends once the items read reach 1 MB, counted in UTF-8 bytes the way
 *   DynamoDB sizes items (attribute names + values), with `LastEvaluatedKey` set to the last item returned —
 *   also when `Limit` was not reached. dynalite never ends a page there.
 * - **Eventually consistent indexes.** Every write through the layer is logged with the item as it was before;
 *   for `indexLagMs` after a write, a Query with `IndexName` answers from the pre-write view (a deleted record
 *   is still listed, a new one is not yet). Base-table reads are unaffected (a ConsistentRead is what AWS
 *   guarantees; an eventually consistent base-table read is usually fresh too).
 * - **Batch rules.** BatchWrite and BatchGet refuse a request that names a key twice
 *   (`ValidationException: Provided list of item keys contains duplicates`), and, with `unprocessedFraction`,
 *   succeed with part of the request handed back as `UnprocessedItems` / `UnprocessedKeys`.
 *
 * One AwsRules instance can wrap several clients (one per in-process gateway): the write log, like a real
 * index, is shared.
 */
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { tables, type TableDefinition, type TableNames } from "../../runtime/contracts";
import { sleep } from "./timing";
import { type DocumentClient } from "../../runtime/aws/document-client";

type Item = Record<string, unknown>;

export const ONE_MB = 1024 * 1024;

export interface AwsRulesOptions {
  /** Bytes of data after which a Query/Scan page ends (AWS: 1 MB). */
  pageBytes?: number;
  /** How long a write stays invisible to index queries. Changing it later affects later writes only. */
  indexLagMs?: number;
  /** Share of a multi-item batch returned unprocessed on each call (0 = none; at least one item is processed). */
  unprocessedFraction?: number;
  /** Refuse batches that name a key twice, as AWS does (default true). */
  rejectDuplicateKeys?: boolean;
}

export interface AwsRulesStats {
  pagesCut: number;
  staleIndexAnswers: number;
  duplicateBatchesRejected: number;
  unprocessedReturned: number;
}

interface LoggedWrite {
  readonly table: string;
  readonly keyId: string;
  /** The item before the write (undefined: it did not exist). */
  readonly before: Item | undefined;
  readonly visibleAt: number;
}

/** DynamoDB's item size: UTF-8 bytes of every attribute name plus its value's size. */
export function itemSize(item: Item): number {
  let n = 0;
  for (const [name, value] of Object.entries(item)) n += Buffer.byteLength(name, "utf8") + valueSize(value);
  return n;
}

function valueSize(v: unknown): number {
  if (v === null || v === undefined || typeof v === "boolean") return 1;
  if (typeof v === "string") return Buffer.byteLength(v, "utf8");
  if (typeof v === "number" || typeof v === "bigint") {
    const digits = String(v)
      .replace(/[-.]|e.*$/gi, "")
      .replace(/^0+/, "");
    return Math.ceil(Math.max(1, digits.length) / 2) + 1;
  }
  if (v instanceof Uint8Array) return v.byteLength;
  if (v instanceof Set) return [...v].reduce((s: number, x) => s + valueSize(x), 0);
  if (Array.isArray(v)) return 3 + v.reduce((s: number, x) => s + 1 + valueSize(x), 0);
  if (typeof v === "object") return 3 + itemSize(v as Item) + Object.keys(v).length;
  return 0;
}

/** An error shaped like the SDK's service errors (name, $fault, $metadata), so the code classifies it as AWS's. */
export function awsError(name: string, message: string, httpStatusCode = 400): Error {
  return Object.assign(new Error(message), {
    name,
    $fault: httpStatusCode >= 500 ? "server" : "client",
    $metadata: { httpStatusCode, attempts: 1 },
  });
}

const keyIdOf = (key: Item): string =>
  JSON.stringify(
    Object.keys(key)
      .sort()
      .map((k) => [k, key[k]]),
  );

export class AwsRules {
  readonly options: Required<AwsRulesOptions>;
  readonly stats: AwsRulesStats = {
    pagesCut: 0,
    staleIndexAnswers: 0,
    duplicateBatchesRejected: 0,
    unprocessedReturned: 0,
  };
  private readonly defs = new Map<string, TableDefinition>();
  private writes: LoggedWrite[] = [];

  constructor(tableNames: TableNames, options: AwsRulesOptions = {}) {
    this.options = {
      pageBytes: ONE_MB,
      indexLagMs: 0,
      unprocessedFraction: 0,
      rejectDuplicateKeys: true,
      ...options,
    };
    for (const [k, name] of Object.entries(tableNames)) this.defs.set(name, tables[k as keyof typeof tables]);
  }

  set indexLagMs(ms: number) {
    this.options.indexLagMs = ms;
  }

  set unprocessedFraction(f: number) {
    this.options.unprocessedFraction = f;
  }

  /** Resolves once every write so far is visible to index queries. */
  async indexesSettled(): Promise<void> {
    const last = Math.max(0, ...this.writes.map((w) => w.visibleAt));
    const wait = last - Date.now();
    if (wait > 0) await sleep(wait + 5);
  }

  /** The indexes catch up with every write so far, at once (between tests). */
  catchUp(): void {
    this.writes = [];
  }

  /** `real` with the AWS rules in front of it; everything else (destroy, config…) passes through. */
  wrap(real: DocumentClient): DocumentClient {
    const send = (cmd: unknown) => this.send(real, cmd);
    return new Proxy(real, {
      get: (target, prop, receiver) => (prop === "send" ? send : Reflect.get(target, prop, receiver)),
    });
  }

  private async send(real: DocumentClient, cmd: unknown): Promise<unknown> {
    if (cmd instanceof QueryCommand) return this.query(real, cmd.input as Item);
    if (cmd instanceof ScanCommand) return this.cut(cmd.input as Item, (await real.send(cmd)) as Item);
    if (cmd instanceof BatchWriteCommand) return this.batchWrite(real, cmd);
    if (cmd instanceof BatchGetCommand) return this.batchGet(real, cmd);
    if (cmd instanceof PutCommand) {
      const input = cmd.input as { TableName: string; Item: Item };
      return this.logged(real, input.TableName, this.keyOf(input.TableName, input.Item), () => real.send(cmd));
    }
    if (cmd instanceof DeleteCommand || cmd instanceof UpdateCommand) {
      const input = cmd.input as { TableName: string; Key: Item };
      return this.logged(real, input.TableName, input.Key, () => real.send(cmd as never));
    }
    return real.send(cmd as never);
  }

  private keyOf(table: string, item: Item): Item {
    const def = this.defs.get(table);
    if (!def) return {};
    const key: Item = { [def.partitionKey.name]: item[def.partitionKey.name] };
    if (def.sortKey) key[def.sortKey.name] = item[def.sortKey.name];
    return key;
  }

  private hasIndexes(table: string): boolean {
    return (this.defs.get(table)?.indexes.length ?? 0) > 0;
  }

  /** Runs a write; if it succeeds and an index could lag it, logs the item as it was before. */
  private async logged<T>(real: DocumentClient, table: string, key: Item, write: () => Promise<T>): Promise<T> {
    const lag = this.options.indexLagMs;
    if (lag <= 0 || !this.hasIndexes(table)) return write();
    const before = (await real.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }))).Item;
    const out = await write();
    this.writes.push({ table, keyId: keyIdOf(key), before, visibleAt: Date.now() + lag });
    return out;
  }

  private async query(real: DocumentClient, input: Item): Promise<unknown> {
    const out = (await real.send(new QueryCommand(input as never))) as Item;
    const indexName = input.IndexName as string | undefined;
    if (indexName) this.replayPendingWrites(input, indexName, out);
    return this.cut(input, out);
  }

  /** Rewrites an index Query's answer to the view before the writes the index has not caught up with. */
  private replayPendingWrites(input: Item, indexName: string, out: Item): void {
    const now = Date.now();
    this.writes = this.writes.filter((w) => w.visibleAt > now);
    const table = input.TableName as string;
    const pending = new Map<string, LoggedWrite>();
    for (const w of this.writes) if (w.table === table && !pending.has(w.keyId)) pending.set(w.keyId, w);
    if (!pending.size) return;
    const def = this.defs.get(table)!;
    const index = def.indexes.find((i) => i.name === indexName)!;
    const matches = keyCondition(input);
    const current = (out.Items ?? []) as Item[];
    const items = current.filter((it) => !pending.has(keyIdOf(this.keyOf(table, it))));
    for (const w of pending.values()) {
      if (w.before && w.before[index.partitionKey.name] !== undefined && matches(w.before)) {
        items.push(project(w.before, def, index));
      }
    }
    const sortKey = index.sortKey?.name ?? def.partitionKey.name;
    const dir = input.ScanIndexForward === false ? -1 : 1;
    items.sort((a, b) => dir * compare(a[sortKey], b[sortKey]));
    const changed = items.length !== current.length || items.some((it, i) => keyIdOf(it) !== keyIdOf(current[i]!));
    if (changed) this.stats.staleIndexAnswers++;
    out.Items = items;
    out.Count = items.length;
  }

  /** Ends the page at pageBytes of data, with LastEvaluatedKey at the last item kept (at least one is). */
  private cut(input: Item, out: Item): unknown {
    const items = (out.Items ?? []) as Item[];
    let bytes = 0;
    let keep = 0;
    for (const it of items) {
      const size = itemSize(it);
      if (keep > 0 && bytes + size > this.options.pageBytes) break;
      bytes += size;
      keep++;
    }
    if (keep === items.length) return out;
    this.stats.pagesCut++;
    const table = input.TableName as string;
    const last = items[keep - 1]!;
    const def = this.defs.get(table);
    const index = def?.indexes.find((i) => i.name === input.IndexName);
    const lek: Item = { ...this.keyOf(table, last) };
    if (index) {
      lek[index.partitionKey.name] = last[index.partitionKey.name];
      if (index.sortKey) lek[index.sortKey.name] = last[index.sortKey.name];
    }
    return { ...out, Items: items.slice(0, keep), Count: keep, ScannedCount: keep, LastEvaluatedKey: lek };
  }

  private checkDuplicates(keysByTable: [string, Item[]][]): void {
    if (!this.options.rejectDuplicateKeys) return;
    for (const [, keys] of keysByTable) {
      const ids = keys.map(keyIdOf);
      if (new Set(ids).size !== ids.length) {
        this.stats.duplicateBatchesRejected++;
        throw awsError("ValidationException", "Provided list of item keys contains duplicates");
      }
    }
  }

  /** How many of n items this call processes. */
  private processed(n: number): number {
    const f = this.options.unprocessedFraction;
    if (f <= 0 || n <= 1) return n;
    return Math.max(1, Math.floor(n * (1 - f)));
  }

  private async batchWrite(real: DocumentClient, cmd: BatchWriteCommand): Promise<unknown> {
    const requestItems = cmd.input.RequestItems ?? {};
    const keysOf = (table: string, reqs: (typeof requestItems)[string]) =>
      reqs.map((r) =>
        r.DeleteRequest ? (r.DeleteRequest.Key as Item) : this.keyOf(table, r.PutRequest!.Item as Item),
      );
    this.checkDuplicates(Object.entries(requestItems).map(([t, reqs]) => [t, keysOf(t, reqs)]));
    const now: typeof requestItems = {};
    const later: typeof requestItems = {};
    for (const [table, reqs] of Object.entries(requestItems)) {
      const k = this.processed(reqs.length);
      now[table] = reqs.slice(0, k);
      if (k < reqs.length) later[table] = reqs.slice(k);
      this.stats.unprocessedReturned += reqs.length - k;
    }
    const befores = new Map<string, { table: string; key: Item; before: Item | undefined }>();
    if (this.options.indexLagMs > 0) {
      for (const [table, reqs] of Object.entries(now)) {
        if (!this.hasIndexes(table)) continue;
        for (const key of keysOf(table, reqs)) {
          const got = await real.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }));
          befores.set(`${table}|${keyIdOf(key)}`, { table, key, before: got.Item });
        }
      }
    }
    const out = (await real.send(new BatchWriteCommand({ ...cmd.input, RequestItems: now }))) as Item;
    const visibleAt = Date.now() + this.options.indexLagMs;
    for (const b of befores.values())
      this.writes.push({ table: b.table, keyId: keyIdOf(b.key), before: b.before, visibleAt });
    const unprocessed = { ...((out.UnprocessedItems as typeof requestItems | undefined) ?? {}) };
    for (const [table, reqs] of Object.entries(later)) unprocessed[table] = [...(unprocessed[table] ?? []), ...reqs];
    return { ...out, UnprocessedItems: unprocessed };
  }

  private async batchGet(real: DocumentClient, cmd: BatchGetCommand): Promise<unknown> {
    const requestItems = cmd.input.RequestItems ?? {};
    this.checkDuplicates(Object.entries(requestItems).map(([t, r]) => [t, (r.Keys ?? []) as Item[]]));
    const now: typeof requestItems = {};
    const later: typeof requestItems = {};
    for (const [table, r] of Object.entries(requestItems)) {
      const keys = r.Keys ?? [];
      const k = this.processed(keys.length);
      now[table] = { ...r, Keys: keys.slice(0, k) };
      if (k < keys.length) later[table] = { ...r, Keys: keys.slice(k) };
      this.stats.unprocessedReturned += keys.length - k;
    }
    const out = (await real.send(new BatchGetCommand({ ...cmd.input, RequestItems: now }))) as Item;
    const unprocessed = { ...((out.UnprocessedKeys as typeof requestItems | undefined) ?? {}) };
    for (const [table, r] of Object.entries(later)) {
      unprocessed[table] = { ...r, Keys: [...(unprocessed[table]?.Keys ?? []), ...(r.Keys ?? [])] };
    }
    return { ...out, UnprocessedKeys: unprocessed };
  }
}

/** What an index item holds: the table and index keys, and the projected attributes (all when unlisted). */
function project(item: Item, def: TableDefinition, index: TableDefinition["indexes"][number]): Item {
  if (!index.nonKeyAttributes) return { ...item };
  const names = [def.partitionKey.name, def.sortKey?.name, index.partitionKey.name, index.sortKey?.name];
  const out: Item = {};
  for (const n of [...names, ...index.nonKeyAttributes]) if (n && item[n] !== undefined) out[n] = item[n];
  return out;
}

function compare(a: unknown, b: unknown): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  const x = String(a);
  const y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** A matcher for the KeyConditionExpression forms the store uses: `a = :v`, `a < :v`…, `begins_with(a, :p)`. */
function keyCondition(input: Item): (item: Item) => boolean {
  const names = (input.ExpressionAttributeNames ?? {}) as Record<string, string>;
  const values = (input.ExpressionAttributeValues ?? {}) as Item;
  const attr = (s: string) => names[s] ?? s;
  const clauses = String(input.KeyConditionExpression ?? "")
    .split(/\s+AND\s+/i)
    .map((c) => c.trim());
  const tests = clauses.map((c): ((item: Item) => boolean) => {
    const prefix = /^begins_with\(\s*([#\w]+)\s*,\s*(:\w+)\s*\)$/i.exec(c);
    if (prefix) return (it) => String(it[attr(prefix[1]!)] ?? "").startsWith(String(values[prefix[2]!]));
    const cmp = /^([#\w]+)\s*(=|<=|>=|<|>)\s*(:\w+)$/.exec(c);
    if (!cmp) throw new Error(`aws-faults: unsupported key condition ${c}`);
    const [, a, op, v] = cmp;
    return (it) => {
      const d = compare(it[attr(a!)], values[v!]);
      return op === "=" ? d === 0 : op === "<" ? d < 0 : op === ">" ? d > 0 : op === "<=" ? d <= 0 : d >= 0;
    };
  });
  return (item) => tests.every((t) => t(item));
}
