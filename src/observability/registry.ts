/**
 * Prometheus metrics (prom-client): one registry per role instance, with the process's own
 * figures (CPU, memory, event loop, file descriptors) and the role's, served as Prometheus' text
 * exposition format at `GET /metrics`. Metric names start with `evnet_`.
 */
import { collectDefaultMetrics, Registry } from "prom-client";

export type { Registry } from "prom-client";

export function createRegistry(role: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ role });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** The text a scraper reads, with the content type Prometheus expects for format 0.0.4. */
export async function exposition(registry: Registry): Promise<Response> {
  return new Response(await registry.metrics(), { headers: { "content-type": registry.contentType, "cache-control": "no-store" } });
}

/** Runs a collector's read, giving up after `ms` so one slow dependency never stalls a scrape. */
export async function within<T>(ms: number, read: () => Promise<T>): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([read().catch(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
