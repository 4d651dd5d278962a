import { describe, expect, test } from "bun:test";
import { delayBetween, scrapeProcessFigures } from "../../bench/central-delay.ts";
import { createRegistry, exposition } from "../../src/observability/registry.ts";

const buckets = (pairs: [number, number][]) => new Map(pairs);

describe("the bench's reading of Central's delay histogram", () => {
  test("takes the window's messages (after less before) and reads quantiles linearly within their bucket", () => {
    const before = buckets([
      [0.1, 50],
      [0.25, 90],
      [1, 100],
      [Number.POSITIVE_INFINITY, 100],
    ]);
    // In the window: 100 messages, 60 under 0.1 s, 30 more under 0.25 s, 9 under 1 s, 1 beyond.
    const after = buckets([
      [0.1, 110],
      [0.25, 180],
      [1, 199],
      [Number.POSITIVE_INFINITY, 200],
    ]);
    const d = delayBetween(before, after)!;
    expect(d.count).toBe(100);
    expect(d.p50).toBe(83); // rank 50 of the 60 in (0, 0.1]: 0.1 × 50/60
    expect(d.p99).toBe(1000); // rank 99 is the last of the 9 in (0.25, 1]
  });

  test("a quantile beyond the last bound is that bound; no messages or no histogram is no figure", () => {
    const none = buckets([
      [0.1, 0],
      [Number.POSITIVE_INFINITY, 0],
    ]);
    const late = buckets([
      [0.1, 0],
      [Number.POSITIVE_INFINITY, 10],
    ]);
    expect(delayBetween(none, late)).toEqual({ count: 10, p50: 100, p99: 100 });
    expect(delayBetween(none, none)).toBeUndefined();
    expect(delayBetween(undefined, late)).toBeUndefined();
  });
});

describe("the bench's read of a Central's process figures", () => {
  test("each read gives the heap in use and the event loop's longest delay since the read before", async () => {
    // the registry every role serves at /metrics, behind a real HTTP server
    const registry = createRegistry("central");
    const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => exposition(registry) });
    const url = `http://127.0.0.1:${server.port}`;
    try {
      await scrapeProcessFigures([url]); // starts the window the next read covers
      const until = Date.now() + 300;
      while (Date.now() < until) {} // the thread held up for 300 ms
      await Bun.sleep(50);
      const [held] = await scrapeProcessFigures([url]);
      expect(held!.loopLagMaxMs!).toBeGreaterThanOrEqual(250);
      expect(held!.heapUsedMiB!).toBeGreaterThan(0);
      await Bun.sleep(200);
      const [after] = await scrapeProcessFigures([url]);
      expect(after!.loopLagMaxMs!).toBeLessThan(250); // reset by the read before: only the last 200 ms count
    } finally {
      server.stop(true);
    }
    // a Central that does not answer gives no figures rather than zeros
    expect(await scrapeProcessFigures([url])).toEqual([{ heapUsedMiB: null, loopLagMaxMs: null }]);
  });
});
