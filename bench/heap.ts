/**
 * Heap snapshot diff by constructor: what the JS heap gained between two snapshots of one process, so memory
 * per connection can be attributed (`--heap`: bench/memory.ts takes one before and one after the second half of
 * the clients connects).
 */
import { readFileSync } from "node:fs";

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

export type HeapCensus = Map<string, { count: number; bytes: number }>;

export function census(file: string): HeapCensus {
  const snap = JSON.parse(readFileSync(file, "utf8")) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const fType = fields.indexOf("type");
  const fName = fields.indexOf("name");
  const fSize = fields.indexOf("self_size");
  const out: HeapCensus = new Map();
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + fType]!] ?? "?";
    const name = type === "object" || type === "closure" ? snap.strings[snap.nodes[i + fName]!]! : `(${type})`;
    const key = `${name}`;
    const e = out.get(key) ?? { count: 0, bytes: 0 };
    e.count++;
    e.bytes += snap.nodes[i + fSize]!;
    out.set(key, e);
  }
  return out;
}

export interface HeapGrowth {
  readonly what: string;
  readonly countPerConnection: number;
  readonly bytesPerConnection: number;
}

export function heapGrowth(before: string, after: string, connections: number, top = 15): HeapGrowth[] {
  const a = census(before);
  const b = census(after);
  return [...b]
    .map(([what, e]) => {
      const old = a.get(what) ?? { count: 0, bytes: 0 };
      return {
        what,
        countPerConnection: (e.count - old.count) / connections,
        bytesPerConnection: (e.bytes - old.bytes) / connections,
      };
    })
    .sort((x, y) => y.bytesPerConnection - x.bytesPerConnection)
    .slice(0, top);
}
