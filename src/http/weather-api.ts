/**
 * The weather endpoints' request bodies, declared once: the API validates with them and the
 * weather office builds its requests from the same types (their replies are in
 * src/roles/api/shapes.ts with the API's other shapes).
 *
 * - `PUT  /ev/central/city-temperature`  (service or operator token)  body: CityTemperatureReport
 * - `GET  /ev/central/city-temperature[/:city]`  (public)
 * - `GET|POST /ev/central/weather/locations`, `DELETE /ev/central/weather/locations/:city`  (writes: operator token)
 * - `POST /ev/central/weather/events`  (service token)  body: WeatherEventReport
 */
import * as v from "valibot";
import { textSchema } from "../domain/ids.ts";
import { READ_FAILURE_KINDS } from "../domain/temperature-reading.ts";
import { citySchema } from "./validate.ts";

/** Plausible air temperatures on Earth, with margin: anything outside is a broken reading. */
const temperature = (field: string) =>
  v.pipe(
    v.number(`${field} must be a number (°C)`),
    v.finite(`${field} must be a finite number`),
    v.minValue(-100, `${field} must be at least -100 °C`),
    v.maxValue(100, `${field} must be at most 100 °C`),
  );

/** Degrees, WGS 84, as weather providers and maps give them. */
export const latitude = v.pipe(
  v.number("latitude must be a number"),
  v.finite("latitude must be finite"),
  v.minValue(-90, "latitude must be at least -90"),
  v.maxValue(90, "latitude must be at most 90"),
);
export const longitude = v.pipe(
  v.number("longitude must be a number"),
  v.finite("longitude must be finite"),
  v.minValue(-180, "longitude must be at least -180"),
  v.maxValue(180, "longitude must be at most 180"),
);

export const cityTemperatureReport = v.pipe(
  v.object({
    city: citySchema(),
    temperature_c: temperature("temperature_c"),
    /** The threshold the reporter uses (CRITICAL_TEMPERATURE); 0 °C when absent. */
    critical_c: v.optional(temperature("critical_c")),
    /** When the provider observed the temperature. */
    observed_at: v.optional(v.pipe(v.string("observed_at must be an ISO 8601 time"), v.isoTimestamp("observed_at must be an ISO 8601 time"))),
    /** Which provider read it (openweather, offline, manual). */
    source: v.optional(textSchema(40, "source")),
    /** Where the city is, when the provider says (both or neither): the dashboard's map places it there. */
    latitude: v.optional(latitude),
    longitude: v.optional(longitude),
  }),
  v.check((r) => (r.latitude === undefined) === (r.longitude === undefined), "latitude and longitude go together: give both or neither"),
);
export type CityTemperatureReport = v.InferInput<typeof cityTemperatureReport>;

export const weatherLocationBody = v.object({ city: citySchema() });

/** The event kinds: every read failure, and `recovered` when a city (or the key) reads again. */
export const WEATHER_EVENT_KINDS = [...READ_FAILURE_KINDS, "recovered"] as const;
export type WeatherEventKind = (typeof WEATHER_EVENT_KINDS)[number];

export const weatherEventReport = v.object({
  kind: v.picklist(WEATHER_EVENT_KINDS, `kind must be one of ${WEATHER_EVENT_KINDS.join(", ")}`),
  /** Absent when the failure concerns every city (a bad key, the rate limit). */
  city: v.optional(citySchema()),
  message: textSchema(500, "message", { required: true }),
  provider: v.optional(textSchema(40, "provider")),
  http_status: v.optional(v.pipe(v.number("http_status must be a number"), v.integer("http_status must be a whole number"), v.minValue(100), v.maxValue(599))),
  at: v.optional(v.pipe(v.string("at must be an ISO 8601 time"), v.isoTimestamp("at must be an ISO 8601 time"))),
});
export type WeatherEventReport = v.InferInput<typeof weatherEventReport>;

/**
 * `PUT /ev/central/weather/heartbeat` (service token): the weather office has no database, so
 * it proves it is alive through the API, which records the beat like any role's.
 */
export const weatherHeartbeatBody = v.object({
  /** Which weather office (host:pid by default). */
  instance: textSchema(200, "instance", { required: true }),
  interval_ms: v.pipe(v.number("interval_ms must be a number"), v.integer("interval_ms must be a whole number"), v.minValue(100), v.maxValue(600_000)),
  /** Small, non-secret figures for the dashboard (provider, cities watched, alerts). */
  details: v.optional(v.record(textSchema(100, "details' names"), v.union([textSchema(500, "details"), v.number(), v.boolean(), v.null()]))),
});
export type WeatherHeartbeat = v.InferInput<typeof weatherHeartbeatBody>;
