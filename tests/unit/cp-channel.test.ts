import { describe, expect, test } from "bun:test";
import type { BusMessage } from "../../src/bus/bus.ts";
import { createCpChannel } from "../../src/cp/channel.ts";
import { seal } from "../../src/crypto/envelope.ts";
import { newChannelKey } from "../../src/crypto/keys.ts";
import { fieldsOf, sealJson, withFlippedBit } from "../support/envelopes.ts";

const key = newChannelKey();

function fromCentral(payload: unknown, opts: { seq: number; ts?: number; cp?: string; busKey?: string; sender?: string; k?: typeof key }): BusMessage {
  const k = opts.k ?? key;
  const value = seal({ sub: `cp:${opts.cp ?? "CP_001"}`, kid: k.keyId, sender: opts.sender ?? "central:c1", seq: opts.seq, ts: opts.ts }, k.key, payload);
  return { topic: "t.cp.commands", key: opts.busKey ?? "CP_001", value };
}

describe("a CP's end of the channel", () => {
  test("seals what it sends so the payload is not readable on the wire", () => {
    const channel = createCpChannel({ cpId: "CP_001", role: "engine", key });
    const out = channel.seal({ type: "telemetry", power_kw: 11.2 });
    expect(out.key).toBe("CP_001");
    expect(Buffer.from(out.value).includes("telemetry")).toBe(false);
    expect(fieldsOf(out.value)).toMatchObject({ sub: "cp:CP_001", kid: key.keyId, sender: "engine:CP_001" });
  });

  test("opens a message Central sealed with the CP's key", async () => {
    const channel = createCpChannel({ cpId: "CP_001", role: "monitor", key });
    const result = await channel.open(fromCentral({ type: "start" }, { seq: 1 }));
    expect(result).toMatchObject({ ok: true, payload: { type: "start" } });
  });

  test("skips messages keyed for other CPs without treating them as attacks", async () => {
    const channel = createCpChannel({ cpId: "CP_001", role: "engine", key });
    const result = await channel.open(fromCentral({ type: "start" }, { seq: 1, cp: "CP_002", busKey: "CP_002" }));
    expect(result).toMatchObject({ ok: false, code: "not_for_me" });
  });

  test("refuses a replayed message from Central", async () => {
    const channel = createCpChannel({ cpId: "CP_001", role: "engine", key });
    const message = fromCentral({ type: "start" }, { seq: 5 });
    expect((await channel.open(message)).ok).toBe(true);
    expect(await channel.open(message)).toMatchObject({ ok: false, code: "replayed" });
  });

  test("takes Central's messages in any order (several instances, an outbox sent again), refusing only those seen before", async () => {
    const channel = createCpChannel({ cpId: "CP_001", role: "engine", key });
    const later = fromCentral({ type: "stop" }, { seq: 20 });
    const earlier = fromCentral({ type: "start" }, { seq: 10 });
    expect((await channel.open(later)).ok).toBe(true);
    expect((await channel.open(earlier)).ok).toBe(true);
    expect(await channel.open(earlier)).toMatchObject({ ok: false, code: "replayed" });
  });

  test("refuses a message older than the freshness window", async () => {
    const channel = createCpChannel({ cpId: "CP_001", role: "engine", key, freshnessMs: 60_000 });
    const result = await channel.open(fromCentral({ type: "start" }, { seq: 1, ts: Date.now() - 10 * 60_000 }));
    expect(result).toMatchObject({ ok: false, code: "stale" });
  });

  test("refuses a tampered message", async () => {
    const channel = createCpChannel({ cpId: "CP_001", role: "engine", key });
    const message = fromCentral({ type: "start" }, { seq: 1 });
    const result = await channel.open({ ...message, value: withFlippedBit(message.value) });
    expect(result).toMatchObject({ ok: false, code: "tampered" });
  });

  test("opens what Central sealed in format 2 (JSON), as it did before the binary format", async () => {
    const channel = createCpChannel({ cpId: "CP_001", role: "engine", key });
    const value = new TextEncoder().encode(sealJson({ sub: "cp:CP_001", kid: key.keyId, sender: "central:c1", seq: 1 }, key.key, { type: "start" }));
    expect(await channel.open({ topic: "t.cp.commands", key: "CP_001", value })).toMatchObject({ ok: true, payload: { type: "start" } });
  });

  test("refuses a message sealed with another key, and one that claims not to come from Central", async () => {
    const channel = createCpChannel({ cpId: "CP_001", role: "engine", key });
    expect(await channel.open(fromCentral({}, { seq: 1, k: newChannelKey() }))).toMatchObject({ ok: false, code: "unknown_key" });
    expect(await channel.open(fromCentral({}, { seq: 2, sender: "engine:CP_001" }))).toMatchObject({ ok: false, code: "not_from_central" });
  });

  test("after re-authentication it seals with the new key and no longer opens the old one's messages", async () => {
    const channel = createCpChannel({ cpId: "CP_001", role: "monitor", key });
    const fresh = newChannelKey();
    channel.setKey(fresh);
    expect(channel.keyId).toBe(fresh.keyId);
    expect(fieldsOf(channel.seal({}).value).kid).toBe(fresh.keyId);
    expect(await channel.open(fromCentral({}, { seq: 1 }))).toMatchObject({ ok: false, code: "unknown_key" });
    expect((await channel.open(fromCentral({}, { seq: 2, k: fresh }))).ok).toBe(true);
  });
});
