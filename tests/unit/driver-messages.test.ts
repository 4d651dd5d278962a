import { describe, expect, test } from "bun:test";
import { cpEventSchema, driverRequestSchema, parseJson } from "../../src/bus/messages.ts";
import { validate } from "../../src/lib/parsed.ts";

describe("message schemas", () => {
  test("a driver's charge request is accepted; one with a bad CP id or no request id is refused naming the field", () => {
    const ok = parseJson(
      driverRequestSchema,
      JSON.stringify({ type: "charge_request", request_id: "r1", driver_id: "D1", cp_id: "CP_1", at: new Date().toISOString() }),
    );
    expect(ok.ok).toBe(true);
    const badCp = parseJson(
      driverRequestSchema,
      JSON.stringify({ type: "charge_request", request_id: "r1", driver_id: "D1", cp_id: "CP 1!", at: new Date().toISOString() }),
    );
    expect(badCp).toMatchObject({ ok: false, reason: expect.stringContaining("cp_id") });
    const noId = parseJson(driverRequestSchema, JSON.stringify({ type: "stop_request", driver_id: "D1", cp_id: "CP_1", at: new Date().toISOString() }));
    expect(noId).toMatchObject({ ok: false, reason: expect.stringContaining("request_id") });
    expect(parseJson(driverRequestSchema, "{oops")).toEqual({ ok: false, reason: "not JSON" });
  });

  test("telemetry with negative energy or an unknown event type is refused", () => {
    const at = new Date().toISOString();
    expect(validate(cpEventSchema, { type: "telemetry", session_id: "S", power_kw: 22, energy_kwh: -1, cost_eur: 0, elapsed_s: 1, at }).ok).toBe(false);
    expect(validate(cpEventSchema, { type: "launch_rockets", at }).ok).toBe(false);
    expect(validate(cpEventSchema, { type: "heartbeat", interval_s: 1, engine: "OK", at }).ok).toBe(true);
  });
});
