/**
 * The weather rules, pure: when a temperature is a frost alert, and what a frost alert (or its
 * end) does to a charging point in each state. The weather office decides alerts with
 * `isFrostAlert`; Central applies `reactionToAlert` / `reactionToAlertEnd` to each CP of the
 * city, `stateAfterSession` when a session ends and `stateWhenAvailable` whenever a CP becomes
 * available again (resumed, repaired, re-authenticated), so that a CP never returns to ACTIVE
 * in a city that is still below the critical temperature.
 *
 * OUT_OF_SERVICE is the weather's state and nothing else's: the other reasons a CP cannot serve
 * (an operator stop, a fault, a lost connection, a revoked key) have states of their own, which
 * the weather never overrides.
 */
import type { CpState } from "./cp-state.ts";

/** The original design's threshold: below 0 °C charging points are taken out of service. */
export const DEFAULT_CRITICAL_TEMPERATURE_C = 0;

/** The reason Central records (and audits) when the weather changes a CP's state. */
export const WEATHER_ALERT_REASON = "weather alert: temperature below the critical threshold";
export const WEATHER_ALERT_ENDED_REASON = "weather alert cancelled";

/** Below the critical temperature is an alert; at or above it, no alert. */
export function isFrostAlert(temperatureC: number, criticalC: number = DEFAULT_CRITICAL_TEMPERATURE_C): boolean {
  return temperatureC < criticalC;
}

export type AlertTransition = "alert_started" | "alert_cancelled" | "alert_continues" | "no_alert";

/** How a new reading changes a city's alert (`previous` undefined: the city's first reading). */
export function alertTransition(previous: boolean | undefined, next: boolean): AlertTransition {
  if (next) return previous ? "alert_continues" : "alert_started";
  return previous ? "alert_cancelled" : "no_alert";
}

export type WeatherReaction =
  /** Idle: out of service at once. */
  | { kind: "out_of_service_now" }
  /** Supplying: the session runs to its end (and its ticket), then `stateAfterSession` applies. */
  | { kind: "out_of_service_after_session" }
  /** Back in service: the frost that took it out is over. */
  | { kind: "back_to_active" }
  /** Nothing changes now; `why` says so for logs. */
  | { kind: "unchanged"; why: string };

/** What a frost alert in the CP's city does to it. Safe to apply repeatedly. */
export function reactionToAlert(state: CpState): WeatherReaction {
  switch (state) {
    case "ACTIVE":
      return { kind: "out_of_service_now" };
    case "SUPPLYING":
      return { kind: "out_of_service_after_session" };
    case "OUT_OF_SERVICE":
      return { kind: "unchanged", why: "already out of service" };
    case "STOPPED":
    case "BROKEN":
    case "DISCONNECTED":
      return { kind: "unchanged", why: `${state.toLowerCase()} for another reason; it stays out of service when it becomes available while the alert lasts` };
  }
}

/** What the end of a frost alert does to a CP of that city. Safe to apply repeatedly. */
export function reactionToAlertEnd(state: CpState): WeatherReaction {
  switch (state) {
    case "OUT_OF_SERVICE":
      return { kind: "back_to_active" };
    case "ACTIVE":
    case "SUPPLYING":
      return { kind: "unchanged", why: "in service already" };
    case "STOPPED":
    case "BROKEN":
    case "DISCONNECTED":
      return { kind: "unchanged", why: `${state.toLowerCase()} for another reason, not because of the weather` };
  }
}

/** Where a CP goes when it becomes free to serve: ACTIVE, unless its city is in a frost alert. */
export function stateWhenAvailable(cityInAlert: boolean): "ACTIVE" | "OUT_OF_SERVICE" {
  return cityInAlert ? "OUT_OF_SERVICE" : "ACTIVE";
}

/** Where a CP goes when its session ends (the ticket is issued first, whatever the weather). */
export const stateAfterSession = stateWhenAvailable;

/**
 * Cities are compared as people write them: case and surrounding or repeated spaces do not
 * matter ("Madrid", " madrid ", "MADRID" are one city). Central matches a CP's location to an
 * alert's city with this.
 */
export function cityKey(city: string): string {
  return city.trim().replace(/\s+/g, " ").toLowerCase();
}

export function sameCity(a: string, b: string): boolean {
  return cityKey(a) === cityKey(b);
}

/** The city as it should be shown and stored: trimmed, inner spaces collapsed, case kept. */
export function tidyCity(city: string): string {
  return city.trim().replace(/\s+/g, " ");
}
