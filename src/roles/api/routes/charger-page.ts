/**
 * What a charger's page reads besides the charger itself: `GET .../charging-points/:cp_id/details`
 * (protocol, key age, credential, place, state history) and `GET .../charging-points/:cp_id/readings`
 * (power and energy over its session in progress and the last 24 hours). Its sessions and its
 * audit trail come from GET /sessions?cp_id= and GET /audit-events?resource=cp/<id>.
 */
import { Hono } from "hono";
import * as v from "valibot";
import { describeRoute, errors, ok, validate } from "../../../http/openapi.ts";
import { cpIdSchema } from "../../../http/validate.ts";
import { AppError } from "../../../lib/errors.ts";
import { chargerDetailsSchema, chargerReadingsSchema } from "../console-shapes.ts";
import type { ApiContext } from "../context.ts";
import { chargerDetails, chargerReadings } from "../views/charger.ts";
import { findChargingPoint } from "../views/charging-points.ts";
import { whileStoreIsUp } from "./store-errors.ts";

const cpParam = v.object({ cp_id: cpIdSchema });

export function chargerPageRoutes(ctx: ApiContext): Hono {
  const app = new Hono();

  app.get(
    "/charging-points/:cp_id/details",
    describeRoute({
      tags: ["console"],
      summary: "A charger's details",
      description:
        "The charger, how it talks to the network, its channel key's age (never the key), its credential's dates, its city's place and its last 50 state changes.",
      responses: { 200: ok("The details", chargerDetailsSchema), ...errors(404, 422, 503) },
    }),
    validate("param", cpParam),
    async (c) => {
      const { cp_id } = c.req.valid("param");
      const details = await whileStoreIsUp(ctx, "read a charger's details", () => chargerDetails(ctx.db, cp_id));
      if (!details) throw new AppError("not_found", `no charging point '${cp_id}'`);
      return c.json(details);
    },
  );

  app.get(
    "/charging-points/:cp_id/readings",
    describeRoute({
      tags: ["console"],
      summary: "Power and energy at a charger",
      description:
        "Its session in progress from start to now (a reading every 5 s at most), and the last 24 hours (a reading per session per minute at most, energy added up across sessions).",
      responses: { 200: ok("The readings", chargerReadingsSchema), ...errors(404, 422, 503) },
    }),
    validate("param", cpParam),
    async (c) => {
      const { cp_id } = c.req.valid("param");
      const readings = await whileStoreIsUp(ctx, "read a charger's readings", async () =>
        (await findChargingPoint(ctx.db, cp_id)) ? chargerReadings(ctx.db, cp_id) : undefined,
      );
      if (!readings) throw new AppError("not_found", `no charging point '${cp_id}'`);
      return c.json(readings);
    },
  );

  return app;
}
