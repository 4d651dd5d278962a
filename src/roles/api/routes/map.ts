/**
 * The map: `GET /ev/central/map` (public) places each city's chargers, counted per state, with
 * its temperature and frost; `PUT /ev/central/city-coordinates` (operator token) sets where a
 * city is, for cities the weather provider cannot place (or places wrongly).
 */
import { Hono } from "hono";
import * as v from "valibot";
import { setCityCoordinates } from "../../../db/repos/city-coordinates.ts";
import { type AuditedVariables, auditFailures } from "../../../http/audit-failures.ts";
import { requireToken } from "../../../http/auth.ts";
import { clientAddress } from "../../../http/client-address.ts";
import { bearer, describeRoute, errors, ok, validate } from "../../../http/openapi.ts";
import { citySchema } from "../../../http/validate.ts";
import { latitude, longitude } from "../../../http/weather-api.ts";
import { coordinatesSchema, mapSchema } from "../console-shapes.ts";
import type { ApiContext } from "../context.ts";
import { chargersByCity } from "../views/map.ts";
import { whileStoreIsUp } from "./store-errors.ts";

const coordinatesBody = v.object({ city: citySchema(), latitude, longitude });

export function mapRoutes(ctx: ApiContext): Hono<{ Variables: AuditedVariables }> {
  const app = new Hono<{ Variables: AuditedVariables }>();
  const operator = requireToken([{ role: "operator", token: ctx.config.EVNET_OPERATOR_TOKEN }], ctx.auditor);

  app.get(
    "/map",
    describeRoute({
      tags: ["console"],
      summary: "Chargers by city, placed on the map",
      description:
        "Cities whose place is known (from the weather provider or an operator), with their chargers per state, temperature and frost; the others are listed as unplaced.",
      responses: { 200: ok("The cities", mapSchema), ...errors(503) },
    }),
    async (c) => c.json(await whileStoreIsUp(ctx, "read the map", () => chargersByCity(ctx.db))),
  );

  app.put(
    "/city-coordinates",
    describeRoute({
      tags: ["console"],
      summary: "Set where a city is",
      description: "Operator token. Latitude and longitude in degrees (WGS 84). The weather provider's coordinates never replace an operator's.",
      security: bearer,
      responses: { 200: ok("The city's place as stored", v.object({ city: v.string(), ...coordinatesSchema.entries })), ...errors(400, 401, 422, 503) },
    }),
    operator,
    auditFailures(ctx.auditor, { eventType: "operator", action: "set_city_coordinates", actorType: "operator", resource: () => "city-coordinates" }),
    validate("json", coordinatesBody),
    async (c) => {
      const body = c.req.valid("json");
      const row = await whileStoreIsUp(ctx, "store the city's place", () =>
        setCityCoordinates(ctx.db, body.city, { latitude: body.latitude, longitude: body.longitude }, "operator"),
      );
      await ctx.auditor.record({
        eventType: "operator",
        actorType: "operator",
        actorId: "api",
        resource: `city/${row!.city}`,
        action: "set_city_coordinates",
        outcome: "success",
        sourceAddress: clientAddress(c),
        details: { latitude: body.latitude, longitude: body.longitude },
      });
      c.set("audited", true);
      return c.json({ city: row!.city, latitude: row!.latitude, longitude: row!.longitude, source: row!.source });
    },
  );

  return app;
}
