/**
 * `evnet weather`: the Weather Control Office. Runs on its own machine in the original
 * deployment, so it has no database and no bus: it learns the cities to watch from Central's
 * API and reports each city's temperature there (PUT /ev/central/city-temperature), which
 * stores it and tells Central. Temperatures come from OpenWeather with OPENWEATHER_API_KEY, or
 * from a local file an operator edits without one.
 */
import { existsSync } from "node:fs";
import { hostname } from "node:os";
import demoTemperatures from "../../../examples/temperatures.json" with { type: "json" };
import { createLogger, type Logger } from "../../lib/log.ts";
import { CentralClient } from "./central-client.ts";
import { offlineFileOf, type WeatherConfig } from "./config.ts";
import { runMenu } from "./menu.ts";
import { WeatherOffice } from "./office.ts";
import { OfflineProvider, writeOfflineFile } from "./providers/offline.ts";
import { OpenWeatherProvider } from "./providers/openweather.ts";
import type { TemperatureProvider } from "./providers/provider.ts";

const HEARTBEAT_INTERVAL_MS = 2_000;

export interface WeatherOptions {
  log?: Logger;
  /** Offer the menu (default: when stdin is a terminal). */
  interactive?: boolean;
}

export async function start(config: WeatherConfig, options: WeatherOptions = {}) {
  const log = options.log ?? createLogger("weather");
  const offlineFile = offlineFileOf(config);
  const provider = providerFor(config, offlineFile, log);
  const central = new CentralClient({ baseUrl: config.API_URL, serviceToken: config.EVNET_SERVICE_TOKEN, caFile: config.EVNET_CA_FILE });
  const office = new WeatherOffice({
    provider,
    central,
    log,
    criticalC: config.CRITICAL_TEMPERATURE,
    checkIntervalMs: config.WEATHER_CHECK_INTERVAL * 1000,
    locationsFile: config.WEATHER_LOCATIONS_FILE,
  });
  log.info("weather office starting", {
    provider: provider.name,
    every_s: config.WEATHER_CHECK_INTERVAL,
    critical_c: config.CRITICAL_TEMPERATURE,
    api: config.API_URL,
    locations_file: config.WEATHER_LOCATIONS_FILE,
  });

  const stopping = new AbortController();
  const rounds = office.run(stopping.signal, config.LOCATION_RELOAD_INTERVAL * 1000);
  const heartbeat = startHeartbeat(office, central, log);

  const interactive = options.interactive ?? Boolean(process.stdin.isTTY);
  const menu = interactive ? runMenu({ office, locationsFile: config.WEATHER_LOCATIONS_FILE, offlineFile, signal: stopping.signal }) : undefined;

  return {
    office,
    /** Resolves when the operator quits from the menu. */
    done: menu,
    async stop() {
      stopping.abort();
      clearInterval(heartbeat);
      await rounds;
      await menu?.catch(() => {});
    },
  };
}

function providerFor(config: WeatherConfig, offlineFile: string, log: Logger): TemperatureProvider {
  if (config.OPENWEATHER_API_KEY)
    return new OpenWeatherProvider({
      baseUrl: config.OPENWEATHER_URL,
      apiKey: config.OPENWEATHER_API_KEY,
      timeoutMs: config.OPENWEATHER_TIMEOUT_MS,
      callsPerMinute: config.OPENWEATHER_CALLS_PER_MINUTE,
      callsPerMonth: config.OPENWEATHER_CALLS_PER_MONTH,
    });
  if (!existsSync(offlineFile)) {
    writeOfflineFile(offlineFile, demoTemperatures);
    log.info("no OPENWEATHER_API_KEY: created the offline temperatures file from the example; edit it or use the menu", { file: offlineFile });
  } else log.info("no OPENWEATHER_API_KEY: reading temperatures from the offline file", { file: offlineFile });
  return new OfflineProvider(offlineFile);
}

/** Beats through the API (the office has no database); a failed beat is only a debug line. */
function startHeartbeat(office: WeatherOffice, central: CentralClient, log: Logger): ReturnType<typeof setInterval> {
  const instance = `${hostname()}:${process.pid}`;
  const beat = () => {
    const status = office.status();
    central
      .heartbeat({
        instance,
        interval_ms: HEARTBEAT_INTERVAL_MS,
        details: {
          provider: office.provider.name,
          cities: status.cities.length,
          alerts: status.cities.filter((c) => c.alert).length,
          round_ms: status.intervalMs,
          provider_problem: status.accountFailure?.kind ?? null,
        },
      })
      .catch((err) => log.debug("heartbeat not recorded", { why: err instanceof Error ? err.message : String(err) }));
  };
  beat();
  const timer = setInterval(beat, HEARTBEAT_INTERVAL_MS);
  timer.unref?.();
  return timer;
}
