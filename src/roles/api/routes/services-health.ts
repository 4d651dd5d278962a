/** `GET /ev/central/health/services`: the health of every service of the network. */
import { Hono } from "hono";
import { describeRoute, ok } from "../../../http/openapi.ts";
import type { ApiContext } from "../context.ts";
import { servicesHealthOf } from "../health/for-context.ts";
import { servicesHealthSchema } from "../shapes.ts";

export function servicesHealthRoutes(ctx: ApiContext): Hono {
  const app = new Hono();
  app.get(
    "/health/services",
    describeRoute({
      tags: ["health"],
      summary: "Health of each service",
      description:
        "api (this process), database (select 1), kafka (broker metadata), registry (its health endpoint over TLS), " +
        "central and weather (their heartbeats in the database). Always 200: the report itself says what is down.",
      responses: { 200: ok("One entry per service", servicesHealthSchema) },
    }),
    async (c) => c.json(await servicesHealthOf(ctx).get()),
  );
  return app;
}
