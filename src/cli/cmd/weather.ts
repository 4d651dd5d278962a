import type { CAC } from "cac";

interface WeatherFlags {
  apiUrl?: string;
  apiCaFile?: string;
  interval?: string;
  critical?: string;
  offlineFile?: string;
  locationsFile?: string;
  openweatherUrl?: string;
}

export function register(cli: CAC): void {
  cli
    .command("weather", "Run the Weather Control Office (frost alerts for CP locations)")
    .option("--api-url <url>", "Central's API (env API_URL, default http://127.0.0.1:8000)")
    .option("--api-ca-file <file>", "CA certificate for the API's HTTPS (env API_CA_FILE)")
    .option("--interval <seconds>", "seconds between rounds (env WEATHER_CHECK_INTERVAL, default 4)")
    .option("--critical <celsius>", "frost alert below this temperature (env CRITICAL_TEMPERATURE, default 0)")
    .option("--offline-file <file>", "temperatures file used without OPENWEATHER_API_KEY (env WEATHER_OFFLINE_FILE)")
    .option("--locations-file <file>", "extra cities to watch, one per line (env WEATHER_LOCATIONS_FILE)")
    .option("--openweather-url <url>", "OpenWeather base URL (env OPENWEATHER_URL)")
    .action(async (flags: WeatherFlags) => {
      const { loadWeatherConfig } = await import("../../roles/weather/config.ts");
      const { runRole } = await import("../run-role.ts");
      const config = loadWeatherConfig({
        API_URL: flags.apiUrl,
        API_CA_FILE: flags.apiCaFile,
        WEATHER_CHECK_INTERVAL: flags.interval,
        CRITICAL_TEMPERATURE: flags.critical,
        WEATHER_OFFLINE_FILE: flags.offlineFile,
        WEATHER_LOCATIONS_FILE: flags.locationsFile,
        OPENWEATHER_URL: flags.openweatherUrl,
      });
      const { start } = await import("../../roles/weather/index.ts");
      await runRole("weather", () => start(config));
    });
}
