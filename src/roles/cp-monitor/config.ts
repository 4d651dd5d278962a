import * as v from "valibot";
import { busSettings, cpIdSetting, heartbeatIntervalSetting, logSettings } from "../../config/common.ts";
import { hostPort, integer, optionalString } from "../../config/env.ts";
import { type ConfigOf, defineSettings, type FlagValues, loadSettings, schemaOf } from "../../config/settings.ts";
import { identitySettings } from "./identity-config.ts";

export const monitorSettings = defineSettings({
  CP_ID: cpIdSetting,
  CP_LOCATION: { flag: "--location <city>", help: "the CP's city, needed to register it", schema: optionalString(), example: "Madrid" },
  CP_PRICE_PER_KWH: {
    flag: "--price <eur>",
    help: "price per kWh asked at registration (the Registry's default otherwise)",
    schema: v.optional(v.pipe(v.string(), v.transform(Number), v.number(), v.minValue(0, "expected a price >= 0"))),
    example: "0.30",
  },
  ENGINE_ADDRESS: { flag: "--engine <host:port>", help: "where its engine listens", schema: hostPort("127.0.0.1:50032") },
  ...busSettings,
  ...identitySettings,
  MONITOR_TO_CENTRAL_HEARTBEAT_INTERVAL: heartbeatIntervalSetting,
  MONITOR_TO_ENGINE_HEARTBEAT_INTERVAL_MS: { help: "how often the monitor health-checks its engine (ms)", schema: integer(1000, 100) },
  MONITOR_TO_ENGINE_HEARTBEAT_TIMEOUT_MS: { help: "a health check not answered within this many ms counts as KO", schema: integer(1500, 100) },
  ...logSettings,
});

export const monitorConfigSchema = schemaOf(monitorSettings);
export type MonitorConfig = ConfigOf<typeof monitorSettings>;

export function loadMonitorConfig(flags: FlagValues<typeof monitorSettings> = {}): MonitorConfig {
  return loadSettings(monitorSettings, flags);
}
