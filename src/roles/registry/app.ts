/** The Registry's HTTP app: charging point registration and its health, under /ev/registry. */
import { Hono } from "hono";
import { installErrorHandling } from "../../http/errors.ts";
import type { RegistryContext } from "./context.ts";
import { chargingPointRoutes } from "./routes/charging-points.ts";
import { healthRoutes } from "./routes/health.ts";
import { ocppChargerRoutes } from "./routes/ocpp-chargers.ts";

export function createRegistryApp(ctx: RegistryContext): Hono {
  const app = new Hono();
  installErrorHandling(app, ctx.log);
  if (ctx.brakes) app.use("*", ctx.brakes.guard);
  app.route("/ev/registry", healthRoutes(ctx));
  app.route("/ev/registry", chargingPointRoutes(ctx));
  app.route("/ev/registry", ocppChargerRoutes(ctx));
  return app;
}
