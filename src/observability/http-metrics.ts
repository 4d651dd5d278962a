/**
 * HTTP latency for Prometheus: a histogram of request durations by method, route pattern (not
 * the raw path: `/charging-points/:cp_id`, so ids do not explode the series) and status.
 */
import type { MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import { Histogram, type Registry } from "prom-client";

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function httpMetrics(registry: Registry): MiddlewareHandler {
  const duration = new Histogram({
    name: "evnet_http_request_duration_seconds",
    help: "Time to answer an HTTP request (until the response starts), by method, route pattern and status.",
    labelNames: ["method", "route", "status"],
    buckets: BUCKETS,
    registers: [registry],
  });
  return async (c, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      // The pattern of the last route matched that is not a middleware for every method (the
      // handler's); a path no route matched gets one shared label, so a scanner cannot create
      // series at will.
      const handler = matchedRoutes(c).findLast((r) => r.method !== "ALL");
      const route = handler ? handler.path : "(unmatched)";
      duration.observe({ method: c.req.method, route, status: String(c.res.status) }, (performance.now() - started) / 1000);
    }
  };
}
