/**
 * The API role's HTTP app. Each endpoint group is one file in routes/, mounted here.
 * Reads are public and never show secrets; writes need a service or operator token, which
 * travels only over TLS (or from loopback); a source that keeps failing to authenticate is held back.
 */
import { Hono } from "hono";
import { tokensOnlyOverTls } from "../../http/auth.ts";
import { installErrorHandling } from "../../http/errors.ts";
import { httpMetrics } from "../../observability/http-metrics.ts";
import type { Probes } from "../../observability/probes.ts";
import { createRegistry } from "../../observability/registry.ts";
import type { ApiContext } from "./context.ts";
import { registerNetworkMetrics } from "./network-metrics.ts";
import { auditEventRoutes } from "./routes/audit-events.ts";
import { authRoutes } from "./routes/auth.ts";
import { chargerPageRoutes } from "./routes/charger-page.ts";
import { chargingPointRoutes } from "./routes/charging-points.ts";
import { cpKeyRoutes } from "./routes/cp-keys.ts";
import { dashboardRoutes } from "./routes/dashboard.ts";
import { deadLetterRoutes } from "./routes/dead-letters.ts";
import { driverRoutes } from "./routes/drivers.ts";
import { fleetRoutes } from "./routes/fleet.ts";
import { healthRoutes } from "./routes/health.ts";
import { liveRoutes } from "./routes/live.ts";
import { mapRoutes } from "./routes/map.ts";
import { ocppKeyRoutes } from "./routes/ocpp-keys.ts";
import { mountOpenApi } from "./routes/openapi.ts";
import { apiProbes, operationsRoutes } from "./routes/operations.ts";
import { operatorRoutes } from "./routes/operator.ts";
import { operatorSignInRoutes } from "./routes/operator-sign-in.ts";
import { servicesHealthRoutes } from "./routes/services-health.ts";
import { sessionRoutes } from "./routes/sessions.ts";
import { sessionsCsvRoutes } from "./routes/sessions-csv.ts";
import { weatherRoutes } from "./routes/weather.ts";

/** `probes` lets the caller make /readyz answer 503 when the role starts stopping. */
export function createApiApp(ctx: ApiContext, probes: Probes = apiProbes(ctx)): Hono {
  const app = new Hono();
  installErrorHandling(app, ctx.log);
  const registry = createRegistry("api");
  registerNetworkMetrics(registry, ctx.db);
  app.use("*", httpMetrics(registry));
  app.route("/", operationsRoutes(registry, probes));
  app.use("*", tokensOnlyOverTls(Boolean(ctx.config.API_TLS_CERT && ctx.config.API_TLS_KEY), ctx.auditor));
  if (ctx.brakes) app.use("*", ctx.brakes.guard);
  app.route("/ev/central", healthRoutes(ctx));
  app.route("/ev/central", weatherRoutes(ctx));
  app.route("/ev/central", fleetRoutes(ctx));
  app.route("/ev/central", chargerPageRoutes(ctx));
  app.route("/ev/central", chargingPointRoutes(ctx));
  app.route("/ev/central", sessionsCsvRoutes(ctx));
  app.route("/ev/central", sessionRoutes(ctx));
  app.route("/ev/central", driverRoutes(ctx));
  app.route("/ev/central", servicesHealthRoutes(ctx));
  app.route("/ev/central", liveRoutes(ctx));
  app.route("/ev/central", authRoutes(ctx));
  app.route("/ev/central", cpKeyRoutes(ctx));
  app.route("/ev/central", ocppKeyRoutes(ctx));
  app.route("/ev/central", auditEventRoutes(ctx));
  app.route("/ev/central", operatorRoutes(ctx));
  app.route("/ev/central", operatorSignInRoutes(ctx));
  app.route("/ev/central", mapRoutes(ctx));
  app.route("/ev/central", deadLetterRoutes(ctx));
  app.route("/", dashboardRoutes());
  mountOpenApi(app); // describes every route mounted on app, whenever it was mounted
  return app;
}
