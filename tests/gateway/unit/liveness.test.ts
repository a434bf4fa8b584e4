/**
 * GatewayLiveness: a connection record counts while its owning gateway's registry record has not expired. Crashed,
 * deregistered and restarted gateways must not leave ghosts online; a live gateway costs no read per lookup.
 */
import { GatewayLiveness } from "../../../runtime/gateway/delivery/gateway-liveness";
import {
  gatewayKey,
  GATEWAY_REGISTRY,
  type ConnectionRoute,
  type GatewayItem,
} from "../../../runtime/store/connections";
import { fakeContext, fakeDb } from "./fakes";

const NOW = 1_000_000_000;

function gateway(id: string, expiresInMs: number, lastSeen = NOW - 1_000): GatewayItem {
  return {
    connectionId: gatewayKey(id),
    gatewayId: GATEWAY_REGISTRY,
    ownerGatewayId: id,
    internalUrl: `http://${id}:8081`,
    startedAt: NOW - 60_000,
    lastSeen,
    expiresAt: Math.ceil((NOW + expiresInMs) / 1000),
  };
}

const record = (connectionId: string, gatewayId: string, connectedAt = NOW - 30_000): ConnectionRoute => ({
  connectionId,
  userId: "u",
  gatewayId,
  internalUrl: `http://${gatewayId}:8081`,
  connectedAt,
});

/** A liveness whose GetItem answers from `registry` (the base table), counting reads. */
function setup(registry: Record<string, GatewayItem | undefined>) {
  let now = NOW;
  const { ddb, sent } = fakeDb((cmd) => {
    const id = (cmd.input.Key as { connectionId: string }).connectionId;
    return { Item: Object.values(registry).find((g) => g?.connectionId === id) };
  });
  const ctx = { ...fakeContext(ddb, "gw-self"), now: () => now };
  const liveness = new GatewayLiveness(ctx);
  const ids = async (records: ConnectionRoute[]) => (await liveness.live(records)).map((r) => r.connectionId);
  return { liveness, ids, reads: () => sent.length, advance: (ms: number) => (now += ms) };
}

describe("GatewayLiveness", () => {
  it("a gateway the reaper saw live costs no read; its records count until its registry record expires", async () => {
    const t = setup({});
    t.liveness.noteRegistry([gateway("gw-b", 60_000)], NOW - 1_000);
    expect(await t.ids([record("c1", "gw-b"), record("c-own", "gw-self")])).toEqual(["c1", "c-own"]);
    expect(t.reads()).toBe(0);
  });

  it("a crashed gateway's records stop counting when its registry record expires, before any reaper pass", async () => {
    const registry = { "gw-b": gateway("gw-b", 10_000) };
    const t = setup(registry);
    t.liveness.noteRegistry([registry["gw-b"]], NOW - 1_000);
    t.advance(11_000);
    // The view saw it live: it may have heartbeated since, so the base table decides (still expired: gone).
    expect(await t.ids([record("c1", "gw-b")])).toEqual([]);
    expect(t.reads()).toBe(1);
    // That read saw it expired after the record was written: later lookups need no read.
    expect(await t.ids([record("c1", "gw-b")])).toEqual([]);
    expect(t.reads()).toBe(1);
  });

  it("a gateway the view does not list is read once: missing (deregistered, reaped, restarted under a new id) is gone", async () => {
    const t = setup({ "gw-new": gateway("gw-new", 60_000) });
    expect(await t.ids([record("c-old", "gw-gone"), record("c-new", "gw-new")])).toEqual(["c-new"]);
    expect(t.reads()).toBe(2);
    expect(await t.ids([record("c-old", "gw-gone"), record("c-new", "gw-new")])).toEqual(["c-new"]);
    expect(t.reads()).toBe(2);
  });

  it("a record written after the view saw its gateway gone is checked again (the gateway may be back)", async () => {
    const registry: Record<string, GatewayItem | undefined> = {};
    const t = setup(registry);
    expect(await t.ids([record("c1", "gw-b")])).toEqual([]);
    registry["gw-b"] = gateway("gw-b", 60_000, NOW + 4_000);
    t.advance(5_000);
    expect(await t.ids([record("c2", "gw-b", NOW + 4_500)])).toEqual(["c2"]);
    expect(t.reads()).toBe(2);
  });

  it("a record past its own backstop expiry never counts, whatever its gateway", async () => {
    const t = setup({});
    t.liveness.noteRegistry([gateway("gw-b", 60_000)], NOW);
    const expired = { ...record("c1", "gw-b"), expiresAt: Math.floor(NOW / 1000) - 1 };
    expect(await t.liveness.live([expired])).toEqual([]);
  });
});
