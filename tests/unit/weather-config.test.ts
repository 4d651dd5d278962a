import { describe, expect, test } from "bun:test";
import { ConfigError, loadConfig } from "../../src/config/env.ts";
import { offlineFileOf, weatherConfigSchema } from "../../src/roles/weather/config.ts";
import { OpenWeatherProvider } from "../../src/roles/weather/providers/openweather.ts";

const TOKEN = "service-token-for-config-tests";
const load = (env: Record<string, string>) => loadConfig(weatherConfigSchema, {}, { EVNET_SERVICE_TOKEN: TOKEN, ...env });

describe("the weather office's configuration", () => {
  test("defaults to the original's 4 s rounds, 0 °C, OpenWeather's public URL and the free plan", () => {
    const config = load({});
    expect(config).toMatchObject({
      WEATHER_CHECK_INTERVAL: 4,
      CRITICAL_TEMPERATURE: 0,
      LOCATION_RELOAD_INTERVAL: 10,
      OPENWEATHER_URL: "https://api.openweathermap.org",
      OPENWEATHER_CALLS_PER_MINUTE: 60,
      OPENWEATHER_CALLS_PER_MONTH: 1_000_000,
      API_URL: "http://127.0.0.1:8000",
    });
    expect(config.OPENWEATHER_API_KEY).toBeUndefined();
  });

  test("keeps the offline file in the data folder unless told otherwise", () => {
    expect(offlineFileOf(load({ EVNET_DATA_DIR: "/var/lib/evnet" }))).toBe("/var/lib/evnet/temperatures.json");
    expect(offlineFileOf(load({ WEATHER_OFFLINE_FILE: "/etc/evnet/t.json" }))).toBe("/etc/evnet/t.json");
  });

  test("accepts a negative critical temperature and a fractional interval", () => {
    expect(load({ CRITICAL_TEMPERATURE: "-2.5", WEATHER_CHECK_INTERVAL: "0.5" })).toMatchObject({ CRITICAL_TEMPERATURE: -2.5, WEATHER_CHECK_INTERVAL: 0.5 });
  });

  test("names the variable that is wrong", () => {
    expect(() => load({ WEATHER_CHECK_INTERVAL: "often" })).toThrow(ConfigError);
    expect(() => load({ WEATHER_CHECK_INTERVAL: "often" })).toThrow(/WEATHER_CHECK_INTERVAL/);
    expect(() => load({ CRITICAL_TEMPERATURE: "cold" })).toThrow(/CRITICAL_TEMPERATURE/);
    expect(() => load({ OPENWEATHER_URL: "not a url" })).toThrow(/OPENWEATHER_URL/);
  });

  test("requires the service token", () => {
    expect(() => loadConfig(weatherConfigSchema, {}, {})).toThrow(/EVNET_SERVICE_TOKEN/);
  });
});

describe("the OpenWeather request", () => {
  const provider = (baseUrl: string) => new OpenWeatherProvider({ baseUrl, apiKey: "k3y", timeoutMs: 1000, callsPerMinute: 60, callsPerMonth: 1_000_000 });

  test("asks for the city in metric units with the key", () => {
    const url = new URL(provider("https://api.openweathermap.org").urlFor("São Paulo,BR"));
    expect(url.origin + url.pathname).toBe("https://api.openweathermap.org/data/2.5/weather");
    expect(Object.fromEntries(url.searchParams)).toEqual({ q: "São Paulo,BR", appid: "k3y", units: "metric" });
  });

  test("keeps a base URL's own path, with or without a trailing slash", () => {
    expect(new URL(provider("http://proxy.local/owm").urlFor("Oslo")).pathname).toBe("/owm/data/2.5/weather");
    expect(new URL(provider("http://proxy.local/owm/").urlFor("Oslo")).pathname).toBe("/owm/data/2.5/weather");
  });
});
