/**
 * `evnet weather` settings. Names follow the original design (WEATHER_CHECK_INTERVAL,
 * CRITICAL_TEMPERATURE, LOCATION_RELOAD_INTERVAL in seconds).
 */
import { join } from "node:path";
import * as v from "valibot";
import { integer, loadConfig, number, optionalString, positiveNumber, secretToken, url } from "../../config/env.ts";

export const weatherConfigSchema = v.object({
  /** Central's API, where temperatures are reported and locations are read. */
  API_URL: v.optional(url(), "http://127.0.0.1:8000"),
  /** CA certificate that signed the API's HTTPS certificate (`evnet certs`: certs/ca.pem). */
  API_CA_FILE: optionalString(),
  EVNET_CA_FILE: optionalString(),
  /** The token the API accepts from services (PUT /ev/central/city-temperature). */
  EVNET_SERVICE_TOKEN: secretToken(),
  /** Seconds between rounds (stretched when the provider's plan needs it). */
  WEATHER_CHECK_INTERVAL: positiveNumber(4, "a number of seconds"),
  /** Below this (°C) a city is in frost alert; at or above it, not. */
  CRITICAL_TEMPERATURE: number(0, "a temperature in °C"),
  OPENWEATHER_URL: v.optional(url(), "https://api.openweathermap.org"),
  /** Without a key the office reads temperatures from WEATHER_OFFLINE_FILE. */
  OPENWEATHER_API_KEY: optionalString(),
  OPENWEATHER_TIMEOUT_MS: integer(5_000, 100),
  /** The plan's limits: the free plan allows 60 calls a minute and 1,000,000 a month. */
  OPENWEATHER_CALLS_PER_MINUTE: integer(60, 1),
  OPENWEATHER_CALLS_PER_MONTH: integer(1_000_000, 1),
  /** The offline provider's file, `{"City": temperature}`; default `<EVNET_DATA_DIR>/temperatures.json`. */
  WEATHER_OFFLINE_FILE: optionalString(),
  /** Extra cities to watch, one per line; re-read every LOCATION_RELOAD_INTERVAL. */
  WEATHER_LOCATIONS_FILE: optionalString(),
  LOCATION_RELOAD_INTERVAL: positiveNumber(10, "a number of seconds"),
  EVNET_DATA_DIR: v.optional(v.pipe(v.string(), v.minLength(1)), ".evnet"),
});

export type WeatherConfig = v.InferOutput<typeof weatherConfigSchema>;

export function loadWeatherConfig(flags: Partial<Record<keyof WeatherConfig, unknown>> = {}): WeatherConfig {
  return loadConfig(weatherConfigSchema, flags);
}

export function offlineFileOf(config: WeatherConfig): string {
  return config.WEATHER_OFFLINE_FILE ?? join(config.EVNET_DATA_DIR, "temperatures.json");
}
