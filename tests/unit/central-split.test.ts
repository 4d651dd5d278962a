/**
 * How Central splits a batch: readings of CPs that sent only readings are written together;
 * everything else stays in order among the items sharing a CP or a driver.
 */
import { describe, expect, test } from "bun:test";
import type { BusMessage } from "../../src/bus/bus.ts";
import type { CpEvent, DriverRequest } from "../../src/bus/messages.ts";
import { type EnvelopeHeader, sequencePairKey } from "../../src/crypto/envelope.ts";
import { type Item, splitByCp } from "../../src/roles/central/items.ts";

let seq = 0;
const header = (cp: string): EnvelopeHeader => ({ v: 2, sub: `cp:${cp}`, kid: `k-${cp}`, sender: `engine:${cp}`, seq: ++seq, ts: Date.now() });
const driverHeader = (driver: string, cp: string): EnvelopeHeader => ({
  v: 2,
  sub: `driver:${driver}`,
  kid: `dk-${driver}`,
  sender: `driver:${driver}>${cp}`,
  seq: ++seq,
  ts: Date.now(),
});
const at = new Date().toISOString();
/** What an item carries of its header: the header and its pair's name. */
const sealed = (h: EnvelopeHeader) => ({ header: h, pair: sequencePairKey(h.kid, h.sender) });
/** The message an item came from (splitting never looks at it). */
const source = (key: string): BusMessage => ({ topic: "t", key, value: new Uint8Array() });
const reading = (cp: string): Item => ({
  kind: "cp",
  source: source(cp),
  cpId: cp,
  ...sealed(header(cp)),
  event: { type: "telemetry", session_id: `S-${cp}`, power_kw: 22, energy_kwh: seq, cost_eur: 0, elapsed_s: 1, at } as CpEvent,
});
const heartbeat = (cp: string): Item => ({
  kind: "cp",
  source: source(cp),
  cpId: cp,
  ...sealed(header(cp)),
  event: { type: "heartbeat", interval_s: 5, engine: "OK", at } as CpEvent,
});
const ended = (cp: string): Item => ({
  kind: "cp",
  source: source(cp),
  cpId: cp,
  ...sealed(header(cp)),
  event: {
    type: "supply_ended",
    session_id: `S-${cp}`,
    reason: "driver_stop",
    power_kw: 0,
    energy_kwh: 1,
    cost_eur: 0,
    started_at: at,
    ended_at: at,
  } as CpEvent,
});
const request = (driver: string, cp: string): Item => ({
  kind: "driver",
  source: source(cp),
  ...sealed(driverHeader(driver, cp)),
  request: { type: "charge_request", request_id: `r-${driver}-${cp}`, driver_id: driver, cp_id: cp, at } as DriverRequest,
});

describe("splitting a batch", () => {
  test("readings of CPs that sent nothing else go together; a CP's state event keeps its readings in order", () => {
    const items = [reading("A"), reading("B"), heartbeat("A"), reading("C"), ended("C"), reading("C"), reading("B")];
    const { readings, chains } = splitByCp(items);
    expect(readings as Item[]).toEqual([items[0]!, items[1]!, items[2]!, items[6]!]);
    expect(chains).toEqual([[items[3]!, items[4]!, items[5]!]]);
  });

  test("CPs with state events are separate chains, each in arrival order", () => {
    const items = [ended("A"), reading("B"), ended("B"), reading("A")];
    const { readings, chains } = splitByCp(items);
    expect(readings as Item[]).toEqual([]);
    expect(chains).toEqual([
      [items[0]!, items[3]!],
      [items[1]!, items[2]!],
    ]);
  });

  test("requests of one driver at two CPs are one chain with both CPs", () => {
    const items = [request("D1", "A"), request("D2", "B"), request("D1", "C"), ended("C"), request("D3", "A")];
    const { readings, chains } = splitByCp(items);
    expect(readings as Item[]).toEqual([]);
    expect(chains).toEqual([[items[0]!, items[2]!, items[3]!, items[4]!], [items[1]!]]);
  });

  test("a control message may touch any CP: the whole batch is one chain, in order", () => {
    const control: Item = {
      kind: "bad_control",
      source: source("x"),
      key: "x",
      signed: { v: 1, kid: "0123456789abcdef", signer: "test", id: "id-of-a-test", ts: Date.now() },
      reason: "type: invalid",
    };
    const items = [reading("A"), control, ended("B")];
    expect(splitByCp(items) as { readings: Item[]; silence: Item[]; chains: Item[][] }).toEqual({ readings: [], silence: [], chains: [items] });
  });

  test("a silence probe keeps its CP's readings with the others, unless the CP sent something else", () => {
    const probe = (cp: string): Item => ({ kind: "probe", source: source(cp), cpId: cp, probe: { kind: "silence", cpId: cp, seenUs: "1000" } });
    const deadline: Item = { kind: "probe", source: source("C"), cpId: "C", probe: { kind: "deadline", cpId: "C", sessionId: "S-C" } };
    const items = [reading("A"), probe("A"), heartbeat("A"), reading("B"), probe("B"), ended("B"), reading("C"), deadline];
    const { readings, silence, chains } = splitByCp(items);
    expect(readings as Item[]).toEqual([items[0]!, items[2]!]);
    expect(silence as Item[]).toEqual([items[1]!]);
    // B's probe stays in order with B's supply end; a deadline probe always keeps its CP in order.
    expect(chains).toEqual([
      [items[3]!, items[4]!, items[5]!],
      [items[6]!, items[7]!],
    ]);
  });

  test("an unreadable driver request touches nothing and is a chain of its own", () => {
    const bad: Item = { kind: "bad_driver_request", source: source("A"), key: "A", ...sealed(driverHeader("D9", "A")), driverId: "D9", reason: "not JSON" };
    const items = [reading("A"), bad];
    expect(splitByCp(items) as { readings: Item[]; silence: Item[]; chains: Item[][] }).toEqual({ readings: [items[0]!], silence: [], chains: [[bad]] });
  });
});
