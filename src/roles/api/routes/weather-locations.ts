/**
 * Locations the weather office watches besides the CPs' own:
 * `GET /ev/central/weather/locations` (public), `POST` `{city}` and `DELETE .../:city`
 * (operator token). Every change is audited.
 */
import { Hono } from "hono";
import * as v from "valibot";
import { addWeatherLocation, listWeatherLocations, removeWeatherLocation } from "../../../db/repos/weather.ts";
import { requireToken, type TokenRole } from "../../../http/auth.ts";
import { clientAddress } from "../../../http/client-address.ts";
import { bearer, describeRoute, errors, ok, validate } from "../../../http/openapi.ts";
import { citySchema } from "../../../http/validate.ts";
import { weatherLocationBody } from "../../../http/weather-api.ts";
import { AppError } from "../../../lib/errors.ts";
import type { ApiContext } from "../context.ts";
import { weatherLocationListSchema, weatherLocationSchema } from "../shapes.ts";
import { toWeatherLocationView } from "../views/weather.ts";
import { whileStoreIsUp } from "./store-errors.ts";

export function weatherLocationRoutes(ctx: ApiContext): Hono<{ Variables: { tokenRole: TokenRole } }> {
  const app = new Hono<{ Variables: { tokenRole: TokenRole } }>();
  const operator = requireToken([{ role: "operator", token: ctx.config.EVNET_OPERATOR_TOKEN }], ctx.auditor);

  app.get(
    "/weather/locations",
    describeRoute({
      tags: ["weather"],
      summary: "Locations an operator added to the weather watch",
      description: "The weather office watches these besides the locations of registered CPs.",
      responses: { 200: ok("The operator's locations", weatherLocationListSchema), ...errors(503) },
    }),
    async (c) => {
      const rows = await whileStoreIsUp(ctx, "read the weather locations", () => listWeatherLocations(ctx.db));
      return c.json({ locations: rows.map(toWeatherLocationView) });
    },
  );

  app.post(
    "/weather/locations",
    describeRoute({
      tags: ["weather"],
      summary: "Add a location to the weather watch",
      description: "Operator token. 201 when added, 200 when it was already watched (cities match regardless of case).",
      security: bearer,
      responses: { 201: ok("Added", weatherLocationSchema), 200: ok("Already watched", weatherLocationSchema), ...errors(400, 401, 422, 503) },
    }),
    operator,
    validate("json", weatherLocationBody),
    async (c) => {
      const { city } = c.req.valid("json");
      const { row, created } = await whileStoreIsUp(ctx, "add the weather location", () => addWeatherLocation(ctx.db, city, "operator"));
      if (created) {
        ctx.log.info("weather location added", { city: row.city });
        await audit(ctx, "location_added", row.city, clientAddress(c));
      }
      return c.json(toWeatherLocationView(row), created ? 201 : 200);
    },
  );

  app.delete(
    "/weather/locations/:city",
    describeRoute({
      tags: ["weather"],
      summary: "Remove a location from the weather watch",
      description: "Operator token. Only operator-added locations can be removed; CPs' own locations are watched while they are registered.",
      security: bearer,
      responses: { 204: { description: "Removed" }, ...errors(401, 404, 422, 503) },
    }),
    operator,
    validate("param", v.object({ city: citySchema() })),
    async (c) => {
      const { city } = c.req.valid("param");
      const removed = await whileStoreIsUp(ctx, "remove the weather location", () => removeWeatherLocation(ctx.db, city));
      if (!removed) throw new AppError("not_found", `${city} is not among the operator's weather locations`);
      ctx.log.info("weather location removed", { city });
      await audit(ctx, "location_removed", city, clientAddress(c));
      return c.body(null, 204);
    },
  );

  return app;
}

function audit(ctx: ApiContext, action: "location_added" | "location_removed", city: string, sourceAddress: string | undefined) {
  return ctx.auditor.record({
    eventType: "weather",
    actorType: "operator",
    actorId: "operator",
    resource: `city/${city}`,
    action,
    outcome: "success",
    sourceAddress,
  });
}
