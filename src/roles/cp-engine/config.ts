import * as v from "valibot";
import { busEntries } from "../../config/common.ts";
import { integer, loadConfig, port, positiveNumber } from "../../config/env.ts";

const cpId = v.pipe(v.string("is required (--id)"), v.regex(/^[A-Za-z0-9_.-]{1,64}$/, "expected 1-64 letters, digits, '_', '.' or '-'"));

export const engineConfigSchema = v.object({
  ...busEntries,
  CP_ID: cpId,
  /** Where the monitor reaches the engine; loopback by default (the key crosses this port). */
  ENGINE_HOST: v.optional(v.pipe(v.string(), v.minLength(1)), "127.0.0.1"),
  ENGINE_PORT: port(50032),
  /** The simulated power the engine supplies, in kW. */
  CP_POWER_KW: positiveNumber(22, "a power in kW"),
  /** A supply ends by itself after this many seconds. */
  MAX_CHARGING_DURATION: positiveNumber(3000, "a number of seconds"),
  /** Telemetry period (ms); 1000 as the design says, smaller for benchmarks. */
  ENGINE_TELEMETRY_INTERVAL_MS: integer(1000, 50),
});

export type EngineConfig = v.InferOutput<typeof engineConfigSchema>;

export function loadEngineConfig(flags: Partial<Record<keyof EngineConfig, unknown>> = {}): EngineConfig {
  return loadConfig(engineConfigSchema, flags);
}
