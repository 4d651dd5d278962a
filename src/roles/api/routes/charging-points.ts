/** `GET /ev/central/charging-points[/:cp_id]` and the original's `GET /ev/central/all-charging-points`. */
import { Hono } from "hono";
import * as v from "valibot";
import { CP_STATES } from "../../../domain/cp-state.ts";
import { describeRoute, errors, ok, validate } from "../../../http/openapi.ts";
import { citySchema, cpIdSchema } from "../../../http/validate.ts";
import { AppError } from "../../../lib/errors.ts";
import type { ApiContext } from "../context.ts";
import { chargingPointListSchema, chargingPointSchema } from "../shapes.ts";
import { findChargingPoint, listChargingPoints } from "../views/charging-points.ts";
import { whileStoreIsUp } from "./store-errors.ts";

const listQuery = v.object({
  status: v.optional(v.picklist(CP_STATES, `status must be one of ${CP_STATES.join(", ")}`)),
  location: v.optional(citySchema("location")),
});

export function chargingPointRoutes(ctx: ApiContext): Hono {
  const app = new Hono();

  app.get(
    "/charging-points",
    describeRoute({
      tags: ["charging-points"],
      summary: "List charging points",
      description: "Registered charging points with their state, location temperature and session in progress. Deregistered ones are left out.",
      responses: { 200: ok("The charging points, by id", chargingPointListSchema), ...errors(422) },
    }),
    validate("query", listQuery),
    async (c) => {
      const q = c.req.valid("query");
      const list = await whileStoreIsUp(ctx, "list charging points", () => listChargingPoints(ctx.db, { status: q.status, location: q.location }));
      return c.json({ charging_points: list });
    },
  );

  app.get(
    "/all-charging-points",
    describeRoute({
      tags: ["charging-points"],
      summary: "List every charging point, deregistered ones too",
      responses: { 200: ok("Every charging point ever registered, by id", chargingPointListSchema), ...errors(422) },
    }),
    validate("query", listQuery),
    async (c) => {
      const q = c.req.valid("query");
      const list = await whileStoreIsUp(ctx, "list charging points", () =>
        listChargingPoints(ctx.db, { status: q.status, location: q.location, includeDeregistered: true }),
      );
      return c.json({ charging_points: list });
    },
  );

  app.get(
    "/charging-points/:cp_id",
    describeRoute({
      tags: ["charging-points"],
      summary: "Show one charging point",
      responses: { 200: ok("The charging point", v.object({ charging_point: chargingPointSchema })), ...errors(404, 422) },
    }),
    validate("param", v.object({ cp_id: cpIdSchema })),
    async (c) => {
      const { cp_id } = c.req.valid("param");
      const cp = await whileStoreIsUp(ctx, "read a charging point", () => findChargingPoint(ctx.db, cp_id));
      if (!cp) throw new AppError("not_found", `no charging point '${cp_id}'`);
      return c.json({ charging_point: cp });
    },
  );

  return app;
}
