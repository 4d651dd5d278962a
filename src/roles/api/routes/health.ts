import { Hono } from "hono";
import { sql } from "drizzle-orm";
import type { ApiContext } from "../context.ts";

/** `GET /ev/central/health`: the API's own health and its database's. */
export function healthRoutes(ctx: ApiContext): Hono {
  const app = new Hono();
  app.get("/health", async (c) => {
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
