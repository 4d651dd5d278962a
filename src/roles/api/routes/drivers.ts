/** `GET /ev/central/drivers[/:driver_id]`: drivers, their state and their sessions. */
import { Hono } from "hono";
import * as v from "valibot";
import { describeRoute, errors, ok, validate } from "../../../http/openapi.ts";
import { driverIdSchema } from "../../../http/validate.ts";
import { AppError } from "../../../lib/errors.ts";
import type { ApiContext } from "../context.ts";
import { driverSchema, sessionSchema } from "../shapes.ts";
import { findDriver, listDrivers } from "../views/drivers.ts";
import { listSessions } from "../views/sessions.ts";
import { wholeNumber } from "./query.ts";
import { whileStoreIsUp } from "./store-errors.ts";

export function driverRoutes(ctx: ApiContext): Hono {
  const app = new Hono();

  app.get(
    "/drivers",
    describeRoute({
      tags: ["drivers"],
      summary: "List drivers",
      description: "Every driver Central has seen, with their state, session in progress and totals.",
      responses: { 200: ok("The drivers, by id", v.object({ drivers: v.array(driverSchema) })) },
    }),
    async (c) => c.json({ drivers: await whileStoreIsUp(ctx, "list drivers", () => listDrivers(ctx.db)) }),
  );

  app.get(
    "/drivers/:driver_id",
    describeRoute({
      tags: ["drivers"],
      summary: "Show one driver and their recent sessions",
      responses: {
        200: ok("The driver and their newest sessions", v.object({ driver: driverSchema, sessions: v.array(sessionSchema) })),
        ...errors(404, 422),
      },
    }),
    validate("param", v.object({ driver_id: driverIdSchema })),
    validate("query", v.object({ sessions: wholeNumber("sessions", 20, 1, 500) })),
    async (c) => {
      const { driver_id } = c.req.valid("param");
      const { sessions: howMany } = c.req.valid("query");
      const [driver, { sessions }] = await whileStoreIsUp(ctx, "read a driver", () =>
        Promise.all([findDriver(ctx.db, driver_id), listSessions(ctx.db, { driverId: driver_id, limit: howMany, offset: 0 })]),
      );
      if (!driver) throw new AppError("not_found", `no driver '${driver_id}'`);
      return c.json({ driver, sessions });
    },
  );

  return app;
}
