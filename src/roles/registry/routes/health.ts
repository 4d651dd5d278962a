import { Hono } from "hono";
import { ownHealth } from "../../../http/health.ts";
import type { RegistryContext } from "../context.ts";

/** `GET /ev/registry/health`: the Registry's own health and its database's. */
export function healthRoutes(ctx: RegistryContext): Hono {
  const app = new Hono();
  app.get("/health", async (c) => {
    const { httpStatus, status, uptime_s, database } = await ownHealth(ctx.db, ctx.startedAt);
    return c.json({ status, service: "registry", uptime_s, database }, httpStatus);
  });
  return app;
}
