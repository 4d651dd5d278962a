import * as v from "valibot";
import { busEntries } from "../../config/common.ts";
import { hostPort, integer, loadConfig, optionalString, positiveNumber } from "../../config/env.ts";
import { identityConfigEntries } from "./enrollment.ts";

const cpId = v.pipe(v.string("is required (--id)"), v.regex(/^[A-Za-z0-9_.-]{1,64}$/, "expected 1-64 letters, digits, '_', '.' or '-'"));

export const monitorConfigSchema = v.object({
  ...busEntries,
  ...identityConfigEntries,
  CP_ID: cpId,
  /** The CP's city, needed to register it. */
  CP_LOCATION: optionalString(),
  /** Price per kWh asked at registration (the Registry's default otherwise). */
  CP_PRICE_PER_KWH: v.optional(v.pipe(v.string(), v.transform(Number), v.number(), v.minValue(0, "expected a price >= 0"))),
  /** Where its engine listens (host:port). */
  ENGINE_ADDRESS: hostPort("127.0.0.1:50032"),
  /** Seconds between heartbeats to Central; Central calls the CP silent after 3 of them. */
  MONITOR_TO_CENTRAL_HEARTBEAT_INTERVAL: positiveNumber(5, "a number of seconds"),
  /** How often the engine is health-checked (ms). */
  MONITOR_TO_ENGINE_HEARTBEAT_INTERVAL_MS: integer(1000, 100),
  /** A health check not answered within this many ms counts as KO. */
  MONITOR_TO_ENGINE_HEARTBEAT_TIMEOUT_MS: integer(1500, 100),
});

export type MonitorConfig = v.InferOutput<typeof monitorConfigSchema>;

export function loadMonitorConfig(flags: Partial<Record<keyof MonitorConfig, unknown>> = {}): MonitorConfig {
  return loadConfig(monitorConfigSchema, flags);
}
