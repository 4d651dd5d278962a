/**
 * `validate` takes a message to the option its `type` names instead of letting valibot's
 * variant try each option in turn: the verdict and the reason must be valibot's own, for valid
 * messages and for every way one can be wrong.
 */
import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import { controlMessageSchema } from "../../src/bus/control-messages.ts";
import { cpCommandSchema, cpEventSchema, driverRequestSchema, driverUpdateSchema, heartbeatSchema, telemetrySchema } from "../../src/bus/messages.ts";
import { issuePath, optionFor, validate } from "../../src/lib/parsed.ts";
import { engineRequestSchema } from "../../src/roles/cp-engine/protocol.ts";

const at = "2026-12-02T17:00:00.000Z";
const session = "0b7c2a4e-1f7e-4c1e-9d0e-6a2b9e0c1d3f";
const valid: Record<string, unknown>[] = [
  { type: "telemetry", session_id: session, power_kw: 22, energy_kwh: 1.5, cost_eur: 0.5, elapsed_s: 60, at },
  { type: "heartbeat", interval_s: 5, engine: "OK", supply: { session_id: session, energy_kwh: 1 }, at },
  { type: "heartbeat", interval_s: 5, engine: "KO", at },
  { type: "supply_started", session_id: session, at },
  { type: "supply_ended", session_id: session, reason: "driver_stop", power_kw: 0, energy_kwh: 2, cost_eur: 1, started_at: at, ended_at: at },
  { type: "charge_request", request_id: "r1", driver_id: "DRIVER_01", cp_id: "CP-001", at },
  { type: "stop_request", request_id: "r2", driver_id: "DRIVER_01", cp_id: "CP-001", at },
  { type: "operator_stop", cp_id: "CP-001", actor_id: "admin", reason: "maintenance", at },
  { type: "operator_resume", cp_id: "CP-001", actor_id: "admin", reason: "done", at },
];

/** Each valid message broken in one way: a field dropped, of the wrong type, out of range; its type unknown, missing or not a string. */
function broken(m: Record<string, unknown>): unknown[] {
  const out: unknown[] = [];
  for (const key of Object.keys(m)) {
    const { [key]: _, ...without } = m;
    out.push(without, { ...m, [key]: 42 }, { ...m, [key]: "x" }, { ...m, [key]: -1 }, { ...m, [key]: null }, { ...m, [key]: { nested: true } });
  }
  out.push({ ...m, type: "nonsense" }, { ...m, type: 1 }, { ...m, type: "toString" }, { ...m, type: "__proto__" }, { ...m, extra: "kept out" });
  return out;
}

const schemas = { cpEventSchema, driverRequestSchema, driverUpdateSchema, cpCommandSchema, controlMessageSchema, engineRequestSchema };

/** What valibot's variant says of an input, in the words `validate` uses. */
function valibots(schema: v.GenericSchema, input: unknown) {
  const r = v.safeParse(schema, input);
  return r.success ? { ok: true, value: r.output } : { ok: false, reason: `${issuePath(r.issues[0]) ?? "(message)"}: ${r.issues[0].message}` };
}

describe("validate on a variant", () => {
  test("gives valibot's verdict and reason for valid messages, broken ones and things that are not messages", () => {
    const inputs: unknown[] = [null, undefined, 3, "telemetry", [], [{ type: "telemetry" }], {}, ...valid, ...valid.flatMap(broken)];
    let compared = 0;
    let accepted = 0;
    for (const schema of Object.values(schemas))
      for (const input of inputs) {
        expect(validate(schema, input)).toEqual(valibots(schema, input) as never);
        compared++;
        if (validate(schema, input).ok) accepted++;
      }
    expect(compared).toBeGreaterThan(1000);
    expect(accepted).toBeGreaterThanOrEqual(valid.length); // the valid ones were accepted, not only refusals compared
  });

  test("goes straight to the option the type names, and leaves an unknown type to the variant", () => {
    expect(optionFor(cpEventSchema, valid[0])).toBe(telemetrySchema);
    expect(optionFor(cpEventSchema, valid[1])).toBe(heartbeatSchema);
    expect(optionFor(cpEventSchema, { type: "nonsense" })).toBeUndefined();
    expect(optionFor(cpEventSchema, { type: "toString" })).toBeUndefined();
    expect(optionFor(cpEventSchema, null)).toBeUndefined();
    expect(optionFor(telemetrySchema, valid[0])).toBeUndefined(); // not a variant
    // Every variant of the bus's messages is told apart by a literal, so every one takes the short way.
    for (const [name, schema] of Object.entries(schemas)) {
      const key = (schema as unknown as { key: string }).key;
      for (const option of (schema as unknown as { options: { entries: Record<string, { literal?: unknown; options?: unknown[] }> }[] }).options)
        for (const literal of option.entries[key]!.options ?? [option.entries[key]!.literal])
          expect([name, literal, (optionFor(schema, { [key]: literal }) as unknown) === option]).toEqual([name, literal, true]);
    }
  });
});
