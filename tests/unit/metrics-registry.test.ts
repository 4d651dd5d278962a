/**
 * A role's /metrics registry: the process's own figures, but none that make a scrape walk the
 * whole heap. Under Bun, v8.getHeapSpaceStatistics (prom-client's per-space heap figures) and
 * v8.getHeapStatistics go through every object on the event loop: 433–462 ms for Central's
 * 600 MB heap at 10,000 chargers, at every scrape.
 */
import { afterEach, describe, expect, test } from "bun:test";
import v8 from "node:v8";
import { createRegistry, HEAP_SPACE_METRICS } from "../../src/observability/registry.ts";

const original = { spaces: v8.getHeapSpaceStatistics, heap: v8.getHeapStatistics };

afterEach(() => {
  v8.getHeapSpaceStatistics = original.spaces;
  v8.getHeapStatistics = original.heap;
});

describe("a role's metrics registry", () => {
  test("a scrape reports the process's CPU, memory and event loop without reading the heap object by object", async () => {
    const registry = createRegistry("central");
    const walks: string[] = [];
    v8.getHeapSpaceStatistics = () => {
      walks.push("getHeapSpaceStatistics");
      return original.spaces();
    };
    v8.getHeapStatistics = () => {
      walks.push("getHeapStatistics");
      return original.heap();
    };
    const text = await registry.metrics();
    expect(walks).toEqual([]);
    for (const name of ["process_cpu_seconds_total", "process_resident_memory_bytes", "nodejs_heap_size_used_bytes", "nodejs_eventloop_lag_p99_seconds"])
      expect(text).toContain(`${name}{role="central"}`);
    for (const name of HEAP_SPACE_METRICS) expect(text).not.toContain(name);
  });
});
