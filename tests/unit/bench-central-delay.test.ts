import { describe, expect, test } from "bun:test";
import { delayBetween, scrapeHistograms, scrapeProcessFigures } from "../../bench/central-delay.ts";
import type { Bus } from "../../src/bus/bus.ts";
import type { Db } from "../../src/db/client.ts";
import { createRegistry, exposition } from "../../src/observability/registry.ts";
import { BATCH_PHASES, createCentralMetrics } from "../../src/roles/central/metrics.ts";

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
  test("each read gives the heap in use, the space held for it, and the event loop's longest delay since the read before", async () => {
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
      expect(held!.heapTotalMiB!).toBeGreaterThan(0);
      await Bun.sleep(200);
      const [after] = await scrapeProcessFigures([url]);
      expect(after!.loopLagMaxMs!).toBeLessThan(250); // reset by the read before: only the last 200 ms count
    } finally {
      server.stop(true);
    }
    // a Central that does not answer gives no figures rather than zeros
    expect(await scrapeProcessFigures([url])).toEqual([{ heapUsedMiB: null, heapTotalMiB: null, loopLagMaxMs: null }]);
  });
});

describe("the bench's read of where Central's batches spend their time", () => {
  test("each phase over the window, summed over the Centrals, from the histogram Central serves", async () => {
    // Central's own metrics behind real HTTP servers, two Centrals; no database and no Kafka
    // behind them (their gauges then leave their figures out).
    const noDb = { select: () => ({ from: () => Promise.reject(new Error("no database here")) }) } as unknown as Db;
    const centrals = [0, 1].map(() => {
      const registry = createRegistry("central");
      const metrics = createCentralMetrics(registry, { db: noDb, bus: {} as Bus, group: "g", topics: [], openSessions: () => 0, readingsHeld: () => 0 });
      const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => exposition(registry) });
      return { metrics, server, url: `http://127.0.0.1:${server.port}` };
    });
    const urls = centrals.map((c) => c.url);
    try {
      const [a, b] = centrals.map((c) => c.metrics);
      a!.phase("transaction", 5); // before the window: not counted
      const before = (await scrapeHistograms(urls, "cp.events")).phases;
      // In the window: 100 batches waited 40 ms (60 at one Central, 40 at the other), 99 opened in
      // 20 ms and one in 2 s, none had a turn, and every transaction took 120 ms.
      for (let i = 0; i < 100; i++) {
        const m = i < 60 ? a! : b!;
        m.phase("waiting", 0.04);
        m.phase("opening", i === 0 ? 2 : 0.02);
        m.phase("transaction", 0.12);
      }
      const after = (await scrapeHistograms(urls, "cp.events")).phases;
      const window = Object.fromEntries(BATCH_PHASES.map((p) => [p, delayBetween(before.get(p), after.get(p))]));
      expect(window.waiting).toEqual({ count: 100, p50: 38, p99: 50 }); // all in (0.025, 0.05]: read linearly within it
      expect(window.opening!.count).toBe(100);
      expect(window.opening!.p50).toBeLessThanOrEqual(25);
      expect(window.opening!.p99).toBeLessThanOrEqual(25);
      expect(window.turn).toBeUndefined(); // none in the window: no figure rather than zeros
      expect(window.transaction!.count).toBe(100);
      expect(window.transaction!.p99).toBeGreaterThan(100);
      expect(window.transaction!.p99).toBeLessThanOrEqual(150);
    } finally {
      for (const c of centrals) c.server.stop(true);
    }
    // A Central that does not answer: no phases and no delay at all rather than the other Central's alone.
    const gone = await scrapeHistograms(urls, "cp.events");
    expect(gone.phases.size).toBe(0);
    expect(gone.delay).toBeUndefined();
  });
});
