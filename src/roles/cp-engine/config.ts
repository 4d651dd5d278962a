import * as v from "valibot";
import { busSettings, cpIdSetting, logSettings } from "../../config/common.ts";
import { integer, port, positiveNumber } from "../../config/env.ts";
import { type ConfigOf, defineSettings, type FlagValues, loadSettings, schemaOf } from "../../config/settings.ts";

export const engineSettings = defineSettings({
  CP_ID: cpIdSetting,
  ENGINE_HOST: {
    flag: "--host <host>",
    help: "address the engine listens on for its monitor; loopback by default, as the CP's key crosses it",
    schema: v.optional(v.pipe(v.string(), v.minLength(1)), "127.0.0.1"),
  },
  ENGINE_PORT: { flag: "--port <port>", help: "port the engine listens on for its monitor", schema: port(50032) },
  CP_POWER_KW: { flag: "--power-kw <kw>", help: "the simulated power the engine supplies (kW)", schema: positiveNumber(22, "a power in kW") },
  MAX_CHARGING_DURATION: {
    flag: "--max-duration <s>",
    help: "a supply ends by itself after this many seconds",
    schema: positiveNumber(3000, "a number of seconds"),
  },
  ...busSettings,
  ENGINE_TELEMETRY_INTERVAL_MS: {
    help: "how often the engine streams telemetry (ms); 1000 as the design says, less for benchmarks",
    schema: integer(1000, 50),
  },
  ...logSettings,
});

export const engineConfigSchema = schemaOf(engineSettings);
export type EngineConfig = ConfigOf<typeof engineSettings>;

export function loadEngineConfig(flags: FlagValues<typeof engineSettings> = {}): EngineConfig {
  return loadSettings(engineSettings, flags);
}
