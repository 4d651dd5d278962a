import { Hono } from "hono";
import { sql } from "drizzle-orm";
import * as v from "valibot";
import { describeRoute, ok } from "../../../http/openapi.ts";
import type { ApiContext } from "../context.ts";

/** `GET /ev/central/health`: the API's own health and its database's. */
export function healthRoutes(ctx: ApiContext): Hono {
  const app = new Hono();
  const report = v.object({
    status: v.picklist(["ok", "degraded"]),
    service: v.literal("api"),
    uptime_s: v.number(),
    database: v.picklist(["ok", "down"]),
    bus: v.picklist(["kafka", "memory"]),
  });
  const describe = describeRoute({
    tags: ["health"],
    summary: "The API's own health",
    description: "200 when the API and its database answer, 503 when the database does not (same body).",
    responses: { 200: ok("Healthy", report), 503: ok("The database does not answer", report) },
  });
  app.get("/health", describe, async (c) => {
    let database: "ok" | "down" = "ok";
    try {
      await ctx.db.execute(sql`select 1`);
    } catch {
      database = "down";
    }
    const status = database === "ok" ? "ok" : "degraded";
    return c.json(
      { status, service: "api", uptime_s: Math.round((Date.now() - ctx.startedAt.getTime()) / 1000), database, bus: ctx.bus.kind },
      status === "ok" ? 200 : 503,
    );
  });
  return app;
}
