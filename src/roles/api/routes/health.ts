import { Hono } from "hono";
import { ownHealth } from "../../../http/health.ts";
import { describeRoute, ok } from "../../../http/openapi.ts";
import type { ApiContext } from "../context.ts";
import { apiHealthSchema } from "../shapes.ts";

/** `GET /ev/central/health`: the API's own health and its database's. */
export function healthRoutes(ctx: ApiContext): Hono {
  const app = new Hono();
  const describe = describeRoute({
    tags: ["health"],
    summary: "The API's own health",
    description: "200 when the API and its database answer, 503 when the database does not (same body).",
    responses: { 200: ok("Healthy", apiHealthSchema), 503: ok("The database does not answer", apiHealthSchema) },
  });
  app.get("/health", describe, async (c) => {
    const { httpStatus, status, uptime_s, database } = await ownHealth(ctx.db, ctx.startedAt);
    return c.json({ status, service: "api", uptime_s, database, bus: ctx.bus.kind }, httpStatus);
  });
  return app;
}
