/**
 * Central's small HTTP side, for operations only (`CENTRAL_METRICS_PORT`): `/metrics`
 * (Prometheus), `/livez` and `/readyz` (ready while its database answers, its bus published
 * lately without failing, and it is not stopping).
 */
import { sql } from "drizzle-orm";
import { Hono } from "hono";
import { serve } from "../../http/serve.ts";
import { httpMetrics } from "../../observability/http-metrics.ts";
import { createProbes } from "../../observability/probes.ts";
import { exposition, type Registry } from "../../observability/registry.ts";
import type { CentralContext } from "./context.ts";

/** A failed publish this recent makes Central not ready (it retries on its own). */
const BUS_FAILURE_MS = 10_000;

export function startCentralHttp(ctx: CentralContext, registry: Registry, options: { hostname: string; port: number }) {
  const probes = createProbes("central", [
    { name: "database", check: async () => void (await ctx.db.execute(sql`select 1`)) },
    {
      name: "bus",
      check: async () => {
        const ago = Date.now() - ctx.busHealth.failedAt;
        return ago < BUS_FAILURE_MS ? `a publish failed ${Math.round(ago / 1000)} s ago` : undefined;
      },
    },
  ]);
  const app = new Hono();
  app.use("*", httpMetrics(registry));
  app.get("/metrics", () => exposition(registry));
  app.route("/", probes.routes);
  const server = serve(app, options);
  ctx.log.info("metrics and probes listening", { url: server.url });
  return {
    url: server.url,
    drain: probes.drain,
    stop: () => server.stop(),
  };
}
