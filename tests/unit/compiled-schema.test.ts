/**
 * `validate` checks a value with the schema's compiled check and goes to valibot only for a value
 * it refuses (or a schema not compiled): the verdict must be valibot's, and a valid value's
 * output valibot's to the key order and the keys present with `undefined`.
 */
import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import { compiled, INVALID } from "../../src/lib/compiled-schema.ts";
import { issuePath, validate } from "../../src/lib/parsed.ts";

const MODULES = [
  "../../src/bus/messages.ts",
  "../../src/bus/control-messages.ts",
  "../../src/bus/live-figures.ts",
  "../../src/bus/security-notice.ts",
  "../../src/http/error-body.ts",
  "../../src/roles/api/summary-shapes.ts",
  "../../src/roles/api/console-shapes.ts",
  "../../src/roles/api/shapes.ts",
  "../../src/roles/api/routes/query.ts",
  "../../src/roles/cp-engine/protocol.ts",
  "../../src/roles/registry/shapes.ts",
  "../../src/roles/registry/routes/ocpp-chargers.ts",
  "../../src/dead-letters/view.ts",
];

/** Every schema these modules export, by module and name. */
async function exportedSchemas(): Promise<[string, v.GenericSchema][]> {
  const found: [string, v.GenericSchema][] = [];
  for (const path of MODULES)
    for (const [name, value] of Object.entries(await import(path)))
      if (value && typeof value === "object" && "~run" in value && (value as { kind?: string }).kind === "schema")
        found.push([`${path.split("/").pop()}:${name}`, value as v.GenericSchema]);
  return found;
}

const at = "2026-12-02T17:00:00.000Z";
const session = "0b7c2a4e-1f7e-4c1e-9d0e-6a2b9e0c1d3f";
const key32 = "A".repeat(43);
/** One valid message of each kind the bus carries (and a few an engine or a client reads). */
const seeds: Record<string, unknown>[] = [
  { type: "telemetry", session_id: session, power_kw: 22, energy_kwh: 1.5, cost_eur: 0.5, elapsed_s: 60, at },
  { type: "heartbeat", interval_s: 5, engine: "OK", supply: { session_id: session, energy_kwh: 1 }, at },
  { type: "heartbeat", interval_s: 5, engine: "KO", supply: null, at },
  { type: "heartbeat", interval_s: 5, engine: "UNKNOWN", at },
  { type: "supply_started", session_id: session, at },
  { type: "supply_refused", session_id: session, reason: "busy", at },
  { type: "supply_ended", session_id: session, reason: "driver_stop", power_kw: 0, energy_kwh: 2, cost_eur: 1, started_at: at, ended_at: at },
  { type: "engine_status", status: "KO", detail: "fan", at },
  { type: "local_session_started", session_id: session, driver_id: "DRIVER_01", started_at: at, at },
  {
    type: "cp_info",
    protocol: "ocpp1.6",
    protocol_version: "1.6",
    vendor: null,
    model: "M",
    serial_number: null,
    firmware_version: null,
    keeps_charging_offline: true,
    at,
  },
  { type: "engine_state", session_id: null, cause: "asked", at },
  { type: "engine_state", session_id: session, energy_kwh: 3, cause: "started", at },
  { type: "charge_request", request_id: "r1", driver_id: "DRIVER_01", cp_id: "CP-001", at },
  { type: "stop_request", request_id: "r2", driver_id: "DRIVER_01", cp_id: "CP-001", at },
  { type: "stop_request", request_id: "r2", driver_id: "DRIVER_01", cp_id: "CP-001", session_id: session, stop_proof: key32, at },
  { type: "authorised", request_id: "r1", driver_id: "DRIVER_01", cp_id: "CP-001", session_id: session, price_per_kwh: 0.3, stop_token: key32, at },
  { type: "refused", request_id: "r1", driver_id: "DRIVER_01", cp_id: "CP 001!", code: "busy", reason: "in use", at },
  { type: "stopping", driver_id: "DRIVER_01", cp_id: "CP-001", session_id: session, reason: "cp_stop", at },
  { type: "progress", driver_id: "DRIVER_01", cp_id: "CP-001", session_id: session, power_kw: 7, energy_kwh: 1, cost_eur: 0.3, elapsed_s: 9, at },
  {
    type: "ticket",
    session_id: session,
    cp_id: "CP-001",
    driver_id: "DRIVER_01",
    energy_kwh: 2,
    price_per_kwh: 0.3,
    cost_eur: 0.6,
    started_at: at,
    ended_at: at,
    duration_s: 60,
    end_reason: "driver_stop",
    corrected: true,
  },
  { type: "start_supply", session_id: session, driver_id: "DRIVER_01", price_per_kwh: 0.3, stop_token: key32 },
  { type: "stop_supply", session_id: session, reason: "driver_stop" },
  { type: "set_availability", available: false, reason: "maintenance" },
  { type: "report_state" },
  { type: "cp_authenticated", cp_id: "CP-001", key_id: "k_1", at },
  { type: "key_revoked", cp_id: "CP-001", key_ids: ["k_1", "k_2"], reason: "lost", actor_type: "operator", actor_id: null, at },
  { type: "key_revoked", cp_id: "CP-001", key_id: "k_1", reason: "lost" },
  { type: "city_temperature", city: "Alicante", alert: false, reported_at: at },
  { type: "operator_stop", cp_id: "CP-001", actor_id: "admin", reason: "maintenance", at },
  { type: "operator_resume", cp_id: "CP-001", actor_id: "admin", reason: "done", at },
  { id: 1, op: "health" },
  { id: 2, op: "key", cp_id: "CP-001", key_id: "k_1", key: key32 },
  { id: 3, ok: true },
  { id: null, ok: false, error: "no" },
];

/** Values a field is set to, one at a time: wrong types, bounds, texts that must be refused. */
const pool: unknown[] = [
  42,
  -1,
  0,
  0.1,
  3600,
  3600.5,
  1e12,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  "x",
  "",
  " ",
  "a".repeat(100),
  "a".repeat(101),
  "a".repeat(501),
  "bad\u0000",
  "\ud800",
  "CP-001",
  at,
  "2026-13-45T99:99:99Z",
  "OK",
  "driver_stop",
  "ocpp1.6",
  key32,
  null,
  undefined,
  true,
  false,
  {},
  [],
  ["k_1"],
  ["bad id"],
  { nested: true },
  { session_id: session, energy_kwh: 1 },
];

/** Each seed changed in one way: a field dropped, set to each value of the pool; a field added; inherited rather than own. */
function variations(seed: Record<string, unknown>): unknown[] {
  const out: unknown[] = [seed, { ...seed, extra: "kept out" }, Object.create(seed)];
  for (const key of Object.keys(seed)) {
    const { [key]: _, ...without } = seed;
    out.push(without, Object.assign(Object.create({ [key]: seed[key] }), without));
    for (const value of pool) out.push({ ...seed, [key]: value });
  }
  return out;
}

const inputs: unknown[] = [...pool, "telemetry", [{ type: "telemetry" }], Object.create(null), ...seeds.flatMap(variations)];

/** A value as nested entries: key order and keys present with `undefined` count. */
function ordered(x: unknown): unknown {
  if (Array.isArray(x)) return ["array", x.map(ordered)];
  if (x && typeof x === "object") return ["object", Object.getPrototypeOf(x) === Object.prototype, Object.entries(x).map(([k, value]) => [k, ordered(value)])];
  return x;
}

function valibots(schema: v.GenericSchema, input: unknown) {
  const r = v.safeParse(schema, input);
  return r.success ? { ok: true, value: r.output } : { ok: false, reason: `${issuePath(r.issues[0]) ?? "(message)"}: ${r.issues[0].message}` };
}

describe("a compiled schema", () => {
  test("gives valibot's verdict, output and reason for every exported schema over thousands of inputs", async () => {
    const schemas = await exportedSchemas();
    expect(schemas.length).toBeGreaterThan(60);
    let compiledSchemas = 0;
    let acceptedCompiled = 0;
    let compared = 0;
    for (const [name, schema] of schemas) {
      const check = compiled(schema);
      if (check) compiledSchemas++;
      for (const input of inputs) {
        const ours = validate(schema, input);
        const theirs = valibots(schema, input);
        if (ours.ok !== theirs.ok || (!ours.ok && ours.reason !== theirs.reason)) expect([name, input, ours]).toEqual([name, input, theirs as never]);
        if (ours.ok) expect([name, ordered(ours.value)]).toEqual([name, ordered(theirs.value)]);
        if (check) {
          // what the compiled check accepts valibot accepts, and the other way round (a valid value does not go the long way)
          expect([name, input, check(input) !== INVALID]).toEqual([name, input, theirs.ok]);
          if (theirs.ok) acceptedCompiled++;
        }
        compared++;
      }
    }
    console.log(
      `compiled-schema: ${schemas.length} schemas (${compiledSchemas} compiled), ${compared} comparisons, ${acceptedCompiled} valid values checked by a compiled schema`,
    );
    expect(compared).toBeGreaterThan(100_000);
    expect(compiledSchemas).toBeGreaterThan(40);
    expect(acceptedCompiled).toBeGreaterThan(1_000); // not only refusals compared
  });

  test("is made for every message the bus carries", async () => {
    const { cpEventSchema, driverRequestSchema, driverUpdateSchema, cpCommandSchema } = await import("../../src/bus/messages.ts");
    const { controlMessageSchema } = await import("../../src/bus/control-messages.ts");
    const { engineRequestSchema } = await import("../../src/roles/cp-engine/protocol.ts");
    for (const schema of [cpEventSchema, driverRequestSchema, driverUpdateSchema, cpCommandSchema, controlMessageSchema, engineRequestSchema])
      expect(compiled(schema)).toBeFunction();
  });

  test("is not made for a schema with a transformation, a default, a fallback or a stateful pattern; valibot answers", () => {
    const trimmed = v.object({ name: v.pipe(v.string(), v.trim()) });
    const defaulted = v.object({ n: v.optional(v.number(), 1) });
    const fallback = v.fallback(v.number(), 0);
    const global = v.pipe(v.string(), v.regex(/a/g));
    const union = v.union([v.string(), v.number()]);
    for (const schema of [trimmed, defaulted, fallback, global, union]) expect(compiled(schema as v.GenericSchema)).toBeNull();
    expect(validate(trimmed, { name: "  x " })).toEqual({ ok: true, value: { name: "x" } });
    expect(validate(defaulted, {})).toEqual({ ok: true, value: { n: 1 } });
    expect(validate(global, "a")).toEqual({ ok: true, value: "a" });
  });

  test("keeps an optional field given as undefined, leaves out one not given and fields not declared", () => {
    const schema = v.object({ a: v.optional(v.string()), b: v.nullable(v.number()), c: v.literal(Number.NaN) });
    const check = compiled(schema)!;
    expect(ordered(check({ c: Number.NaN, b: null, a: undefined, d: 1 }))).toEqual(ordered({ a: undefined, b: null, c: Number.NaN }));
    expect(ordered(check({ b: 1, c: Number.NaN }))).toEqual(ordered({ b: 1, c: Number.NaN }));
    expect(check({ a: "x", c: Number.NaN })).toBe(INVALID); // b is required, even if it may be null
    expect(check([])).toBe(INVALID);
  });
});
