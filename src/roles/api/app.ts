/**
 * The API role's HTTP app. Each endpoint group is one file in routes/, mounted here.
 * Reads are public and never show secrets; writes need a service or operator token.
 */
import { Hono } from "hono";
import { installErrorHandling } from "../../http/errors.ts";
import type { ApiContext } from "./context.ts";
import { auditEventRoutes } from "./routes/audit-events.ts";
import { authRoutes } from "./routes/auth.ts";
import { chargingPointRoutes } from "./routes/charging-points.ts";
import { cpKeyRoutes } from "./routes/cp-keys.ts";
import { dashboardRoutes } from "./routes/dashboard.ts";
import { driverRoutes } from "./routes/drivers.ts";
import { healthRoutes } from "./routes/health.ts";
import { liveRoutes } from "./routes/live.ts";
import { mountOpenApi } from "./routes/openapi.ts";
import { operatorRoutes } from "./routes/operator.ts";
import { servicesHealthRoutes } from "./routes/services-health.ts";
import { sessionRoutes } from "./routes/sessions.ts";
import { weatherRoutes } from "./routes/weather.ts";

export function createApiApp(ctx: ApiContext): Hono {
  const app = new Hono();
  installErrorHandling(app, ctx.log);
  app.route("/ev/central", healthRoutes(ctx));
  app.route("/ev/central", weatherRoutes(ctx));
  app.route("/ev/central", chargingPointRoutes(ctx));
  app.route("/ev/central", sessionRoutes(ctx));
  app.route("/ev/central", driverRoutes(ctx));
  app.route("/ev/central", servicesHealthRoutes(ctx));
  app.route("/ev/central", liveRoutes(ctx));
  app.route("/ev/central", authRoutes(ctx));
  app.route("/ev/central", cpKeyRoutes(ctx));
  app.route("/ev/central", auditEventRoutes(ctx));
  app.route("/ev/central", operatorRoutes(ctx));
  app.route("/", dashboardRoutes());
  mountOpenApi(app); // describes every route mounted on app, whenever it was mounted
  return app;
}
