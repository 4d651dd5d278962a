/**
 * `evnet weather` settings. Names follow the original design (WEATHER_CHECK_INTERVAL,
 * CRITICAL_TEMPERATURE, LOCATION_RELOAD_INTERVAL in seconds).
 */
import { join } from "node:path";
import * as v from "valibot";
import { apiUrlSetting, caFileSetting, dataDirSetting, logSettings } from "../../config/common.ts";
import { integer, number, optionalString, positiveNumber, url } from "../../config/env.ts";
import { serviceTokenSetting } from "../../config/identity.ts";
import { type ConfigOf, defineSettings, type FlagValues, loadSettings, schemaOf } from "../../config/settings.ts";

export const weatherSettings = defineSettings({
  API_URL: { ...apiUrlSetting, help: "Central's API, where temperatures are reported and CP locations are read" },
  EVNET_CA_FILE: { ...caFileSetting, help: "CA certificate that signed the API's HTTPS certificate (the ca.pem of 'evnet certs')" },
  EVNET_SERVICE_TOKEN: { ...serviceTokenSetting, help: "the token the API accepts from services, to report temperatures" },
  WEATHER_CHECK_INTERVAL: {
    flag: "--interval <seconds>",
    help: "seconds between rounds (stretched when the provider's plan needs it)",
    schema: positiveNumber(4, "a number of seconds"),
  },
  CRITICAL_TEMPERATURE: {
    flag: "--critical <celsius>",
    help: "a city is in frost alert below this temperature (°C)",
    schema: number(0, "a temperature in °C"),
  },
  OPENWEATHER_URL: { flag: "--openweather-url <url>", help: "OpenWeather's base URL", schema: v.optional(url(), "https://api.openweathermap.org") },
  OPENWEATHER_API_KEY: {
    help: "OpenWeather API key; without it the office reads temperatures from the offline file",
    schema: optionalString(),
    secret: "value",
  },
  OPENWEATHER_TIMEOUT_MS: { help: "how long one OpenWeather call may take (ms)", schema: integer(5_000, 100) },
  OPENWEATHER_CALLS_PER_MINUTE: { help: "the plan's limit per minute (free plan: 60)", schema: integer(60, 1) },
  OPENWEATHER_CALLS_PER_MONTH: { help: "the plan's limit per month (free plan: 1,000,000)", schema: integer(1_000_000, 1) },
  WEATHER_OFFLINE_FILE: {
    flag: "--offline-file <file>",
    help: 'temperatures read without OPENWEATHER_API_KEY, {"City": °C}; made from examples/temperatures.json when missing',
    schema: optionalString(),
    defaultText: "<data folder>/temperatures.json",
  },
  WEATHER_LOCATIONS_FILE: {
    flag: "--locations-file <file>",
    help: "extra cities to watch, one per line; re-read every LOCATION_RELOAD_INTERVAL seconds",
    schema: optionalString(),
    example: "examples/weather-locations.txt",
  },
  LOCATION_RELOAD_INTERVAL: { help: "seconds between two reads of the locations file", schema: positiveNumber(10, "a number of seconds") },
  EVNET_DATA_DIR: { ...dataDirSetting, help: "folder of the default offline temperatures file" },
  ...logSettings,
});

export const weatherConfigSchema = schemaOf(weatherSettings);
export type WeatherConfig = ConfigOf<typeof weatherSettings>;

export function loadWeatherConfig(flags: FlagValues<typeof weatherSettings> = {}): WeatherConfig {
  return loadSettings(weatherSettings, flags);
}

export function offlineFileOf(config: WeatherConfig): string {
  return config.WEATHER_OFFLINE_FILE ?? join(config.EVNET_DATA_DIR, "temperatures.json");
}
