/**
 * For the machines that watch the API: `GET /metrics` (Prometheus text format: the network's
 * chargers per state, sessions, energy, the outbox, and the API's HTTP latency and process
 * figures), `GET /livez` and `GET /readyz` (200/503 for load balancers: ready while the
 * database answers and the API is not stopping).
 */
import { sql } from "drizzle-orm";
import { Hono } from "hono";
import { describeRoute } from "../../../http/openapi.ts";
import { createProbes, type Probes } from "../../../observability/probes.ts";
import { exposition, type Registry } from "../../../observability/registry.ts";
import type { ApiContext } from "../context.ts";

export function apiProbes(ctx: ApiContext): Probes {
  return createProbes("api", [{ name: "database", check: async () => void (await ctx.db.execute(sql`select 1`)) }]);
}

export function operationsRoutes(registry: Registry, probes: Probes): Hono {
  const routes = new Hono();
  routes.get(
    "/metrics",
    describeRoute({
      tags: ["health"],
      summary: "Metrics for Prometheus",
      description:
        "Prometheus text format 0.0.4: chargers per state, in frost, sessions in progress and finished, power, energy delivered, the outbox, HTTP latency by route, and the process's CPU and memory.",
      responses: { 200: { description: "The metrics", content: { "text/plain": { schema: { type: "string" } } } } },
    }),
    () => exposition(registry),
  );
  routes.route("/", probes.routes);
  return routes;
}
