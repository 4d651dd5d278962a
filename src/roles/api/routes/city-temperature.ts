/**
 * `PUT /ev/central/city-temperature` (service or operator token): the weather office reports a
 * city's temperature. The reading is stored, an alert that starts or ends is audited, and
 * Central is told on the control topic (keyed by city, so its reports stay in order) so that it
 * takes the city's CPs out of service or brings them back.
 *
 * `GET /ev/central/city-temperature[/:city]` (public): the last temperature and alert per city.
 */
import { Hono } from "hono";
import * as v from "valibot";
import { BusError } from "../../../bus/bus.ts";
import { type CityTemperatureMessage, sendControl } from "../../../bus/control-messages.ts";
import { setCityCoordinates } from "../../../db/repos/city-coordinates.ts";
import { findCityWeather, listCityWeather, recordCityTemperature } from "../../../db/repos/weather.ts";
import { alertTransition, DEFAULT_CRITICAL_TEMPERATURE_C, isFrostAlert } from "../../../domain/weather-policy.ts";
import { requireToken, type TokenRole } from "../../../http/auth.ts";
import { clientAddress } from "../../../http/client-address.ts";
import { bearer, describeRoute, errors, ok, validate } from "../../../http/openapi.ts";
import { citySchema } from "../../../http/validate.ts";
import { cityTemperatureReport } from "../../../http/weather-api.ts";
import { AppError } from "../../../lib/errors.ts";
import type { ApiContext } from "../context.ts";
import { cityWeatherListSchema, cityWeatherSchema, cityWeatherStoredSchema } from "../shapes.ts";
import { toCityWeatherView } from "../views/weather.ts";
import { whileStoreIsUp } from "./store-errors.ts";

export function cityTemperatureRoutes(ctx: ApiContext): Hono<{ Variables: { tokenRole: TokenRole } }> {
  const app = new Hono<{ Variables: { tokenRole: TokenRole } }>();
  const writers = requireToken(
    [
      { role: "service", token: ctx.config.EVNET_SERVICE_TOKEN },
      { role: "operator", token: ctx.config.EVNET_OPERATOR_TOKEN },
    ],
    ctx.auditor,
  );

  app.put(
    "/city-temperature",
    describeRoute({
      tags: ["weather"],
      summary: "Report a city's temperature",
      description:
        "Stores the city's temperature; below `critical_c` (default 0 °C) the city is in frost alert and Central takes its idle CPs out of service at once and its supplying CPs after their session; at or above it, Central brings them back. Service or operator token.",
      security: bearer,
      responses: { 200: ok("The stored reading and what it did to the city's alert", cityWeatherStoredSchema), ...errors(400, 401, 422, 503) },
    }),
    writers,
    validate("json", cityTemperatureReport),
    async (c) => {
      const report = c.req.valid("json");
      const criticalC = report.critical_c ?? DEFAULT_CRITICAL_TEMPERATURE_C;
      const alert = isFrostAlert(report.temperature_c, criticalC);
      const { row, previousAlert } = await whileStoreIsUp(ctx, "store the temperature", () =>
        recordCityTemperature(ctx.db, { city: report.city, temperatureC: report.temperature_c, alert }),
      );
      if (report.latitude !== undefined && report.longitude !== undefined)
        await whileStoreIsUp(ctx, "store the city's place", () =>
          setCityCoordinates(ctx.db, report.city, { latitude: report.latitude!, longitude: report.longitude! }, "weather"),
        );
      const transition = alertTransition(previousAlert, alert);
      if (transition === "alert_started" || transition === "alert_cancelled") {
        const actor = c.get("tokenRole") === "operator" ? "operator" : "service";
        const fields = { city: row.city, temperature_c: row.temperatureC, critical_c: criticalC };
        if (transition === "alert_started") ctx.log.warn("frost alert", fields);
        else ctx.log.info("frost alert cancelled", fields);
        await ctx.auditor.record({
          eventType: "weather",
          actorType: actor,
          actorId: actor === "operator" ? "operator" : "weather",
          resource: `city/${row.city}`,
          action: transition,
          outcome: "success",
          reason: `${row.temperatureC} °C is ${alert ? "below" : "at or above"} the critical ${criticalC} °C`,
          sourceAddress: clientAddress(c),
          details: { temperature_c: row.temperatureC, critical_c: criticalC, source: report.source ?? null, observed_at: report.observed_at ?? null },
        });
      }
      await tellCentral(ctx, { type: "city_temperature", city: row.city, alert, reported_at: row.updatedAt.toISOString() });
      return c.json({ ...toCityWeatherView(row), transition });
    },
  );

  app.get(
    "/city-temperature",
    describeRoute({
      tags: ["weather"],
      summary: "Temperature and frost alert per city",
      description: "Every city the weather office has reported, cities in alert first.",
      responses: { 200: ok("Every reported city", cityWeatherListSchema), ...errors(503) },
    }),
    async (c) => {
      const rows = await whileStoreIsUp(ctx, "read temperatures", () => listCityWeather(ctx.db));
      return c.json({ cities: rows.map((r) => ({ ...toCityWeatherView(r), cp_count: r.cpCount })) });
    },
  );

  app.get(
    "/city-temperature/:city",
    describeRoute({
      tags: ["weather"],
      summary: "One city's temperature and frost alert",
      responses: { 200: ok("The city's last reading", cityWeatherSchema), ...errors(404, 422, 503) },
    }),
    validate("param", v.object({ city: citySchema() })),
    async (c) => {
      const { city } = c.req.valid("param");
      const row = await whileStoreIsUp(ctx, "read the temperature", () => findCityWeather(ctx.db, city));
      if (!row) throw new AppError("not_found", `no temperature has been reported for ${city}`);
      return c.json(toCityWeatherView(row));
    },
  );

  return app;
}

/**
 * Hands the reading to Central. The reading is already stored, so when the bus is down the
 * reporter gets a 503 and sends again; Central never misses an alert that the API accepted.
 */
async function tellCentral(ctx: ApiContext, message: CityTemperatureMessage): Promise<void> {
  try {
    await sendControl(ctx, [message]);
  } catch (err) {
    if (!(err instanceof BusError)) throw err;
    ctx.log.error("could not publish the city temperature to Central", { city: message.city, err });
    throw new AppError("unavailable", "the temperature was stored but Central could not be told (message bus unavailable); send it again");
  }
}
