import { describe, expect, test } from "bun:test";
import { delayBetween } from "../../bench/central-delay.ts";

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
