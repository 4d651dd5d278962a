/**
 * The weather rules, pure: when a temperature is a frost alert, how a new reading changes a
 * city's alert, and where a CP goes when it is free to serve. The weather office and the API
 * decide alerts with `isFrostAlert`; Central derives each CP's state from its facts
 * (src/domain/cp-status.ts), where `stateWhenAvailable` keeps a CP that becomes available
 * (its session ended, resumed, repaired, re-authenticated) out of service while its city is
 * below the critical temperature.
 *
 * OUT_OF_SERVICE is the weather's state and nothing else's: the other reasons a CP cannot serve
 * (an operator stop, a fault, a lost connection, a revoked key) have states of their own, which
 * the weather never overrides.
 */

/** The original design's threshold: below 0 °C charging points are taken out of service. */
export const DEFAULT_CRITICAL_TEMPERATURE_C = 0;

/** The reason Central records (and audits) when the weather changes a CP's state. */
export const WEATHER_ALERT_REASON = "weather alert: temperature below the critical threshold";
export const WEATHER_ALERT_ENDED_REASON = "weather alert cancelled";

/** Below the critical temperature is an alert; at or above it, no alert. */
export function isFrostAlert(temperatureC: number, criticalC: number = DEFAULT_CRITICAL_TEMPERATURE_C): boolean {
  return temperatureC < criticalC;
}

/** What a city's new reading did to its alert. */
export const ALERT_TRANSITIONS = ["alert_started", "alert_cancelled", "alert_continues", "no_alert"] as const;
export type AlertTransition = (typeof ALERT_TRANSITIONS)[number];

/** How a new reading changes a city's alert (`previous` undefined: the city's first reading). */
export function alertTransition(previous: boolean | undefined, next: boolean): AlertTransition {
  if (next) return previous ? "alert_continues" : "alert_started";
  return previous ? "alert_cancelled" : "no_alert";
}

/** Where a CP goes when it becomes free to serve: ACTIVE, unless its city is in a frost alert. */
export function stateWhenAvailable(cityInAlert: boolean): "ACTIVE" | "OUT_OF_SERVICE" {
  return cityInAlert ? "OUT_OF_SERVICE" : "ACTIVE";
}
