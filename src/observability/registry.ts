/**
 * Prometheus metrics (prom-client): one registry per role instance, with the process's own
 * figures (CPU, memory, event loop, file descriptors) and the role's, served as Prometheus' text
 * exposition format at `GET /metrics`. Metric names start with `evnet_`.
 */
import { collectDefaultMetrics, Registry } from "prom-client";

export type { Registry } from "prom-client";

/**
 * prom-client's figures per heap space (`nodejs_heap_space_size_*`): under Bun,
 * v8.getHeapSpaceStatistics walks every object of the heap on the event loop, 433–462 ms for a
 * 600 MB heap (Central's at 10,000 chargers), so every scrape held up everything the role was
 * doing. They are left out; the heap's total and used size (`nodejs_heap_size_*`, from
 * process.memoryUsage, a few microseconds) stay.
 */
export const HEAP_SPACE_METRICS = ["nodejs_heap_space_size_total_bytes", "nodejs_heap_space_size_used_bytes", "nodejs_heap_space_size_available_bytes"];

export function createRegistry(role: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ role });
  collectDefaultMetrics({ register: registry });
  for (const name of HEAP_SPACE_METRICS) registry.removeSingleMetric(name);
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
