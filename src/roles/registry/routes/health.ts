import { sql } from "drizzle-orm";
import { Hono } from "hono";
import type { RegistryContext } from "../context.ts";

/** `GET /ev/registry/health`: the Registry's own health and its database's. */
export function healthRoutes(ctx: RegistryContext): Hono {
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
      { status, service: "registry", uptime_s: Math.round((Date.now() - ctx.startedAt.getTime()) / 1000), database },
      status === "ok" ? 200 : 503,
    );
  });
  return app;
}
