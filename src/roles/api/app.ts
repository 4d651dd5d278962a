/**
 * The API role's HTTP app. Each endpoint group is one file in routes/, mounted here.
 * Reads are public and never show secrets; writes need a service or operator token.
 */
import { Hono } from "hono";
import { installErrorHandling } from "../../http/errors.ts";
import type { ApiContext } from "./context.ts";
import { healthRoutes } from "./routes/health.ts";

export function createApiApp(ctx: ApiContext): Hono {
  const app = new Hono();
  installErrorHandling(app, ctx.log);
  app.route("/ev/central", healthRoutes(ctx));
  return app;
}
