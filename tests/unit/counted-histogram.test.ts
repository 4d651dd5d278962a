/**
 * Central's message delays are observed once per message, so they are counted in place instead
 * of through prom-client's Histogram; a scrape must read exactly what prom-client's would.
 */
import { describe, expect, test } from "bun:test";
import { Histogram, Registry } from "prom-client";
import { CountedHistogram } from "../../src/observability/counted-histogram.ts";

const BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 1, 5, 60];

/** The exposition's sample lines, sorted (the two write a line's labels in another order). */
function samples(text: string): string[] {
  return text
    .split("\n")
    .filter((l) => l && !l.startsWith("#"))
    .map((l) => {
      const [, name, labels = "", value] = /^([^{ ]+)(?:\{(.*)\})? (.+)$/.exec(l)!;
      return `${name}{${labels.split(",").sort().join(",")}} ${Number(value)}`;
    })
    .sort();
}

describe("CountedHistogram", () => {
  test("a scrape reads the same buckets, sum and count as prom-client's Histogram given the same values", async () => {
    const ours = new Registry();
    const theirs = new Registry();
    for (const r of [ours, theirs]) r.setDefaultLabels({ role: "central" });
    const counted = new CountedHistogram("delay_seconds", "Delays.", "topic", BUCKETS, ours);
    const reference = new Histogram({ name: "delay_seconds", help: "Delays.", labelNames: ["topic"], buckets: BUCKETS, registers: [theirs] });
    // Values on every bound, between them, below the first, above the last; two topics.
    const values = [0, 0.01, 0.010001, 0.03, 0.1, 0.2, 1, 4.999, 5, 59, 60, 61, 300, ...Array.from({ length: 500 }, (_, i) => (i * 7.3) % 90)];
    for (const [i, v] of values.entries()) {
      const topic = i % 3 === 0 ? "cp.events" : "driver.requests";
      counted.labels(topic).observe(v);
      reference.labels({ topic }).observe(v);
    }
    const text = await ours.metrics();
    expect(samples(text)).toEqual(samples(await theirs.metrics()));
    expect(text).toContain("# TYPE delay_seconds histogram");
    expect(text).toContain('delay_seconds_bucket{le="+Inf",topic="cp.events",role="central"} 171');
    expect(text).toContain('delay_seconds_count{topic="driver.requests",role="central"} 342');
  });

  test("a value that is not a number is refused, as prom-client refuses it, and counts nothing", async () => {
    const registry = new Registry();
    const counted = new CountedHistogram("d", "D.", "topic", BUCKETS, registry);
    const observer = counted.labels("t");
    observer.observe(0.5);
    expect(() => observer.observe(Number.NaN)).toThrow(TypeError);
    expect(() => observer.observe(Number.POSITIVE_INFINITY)).toThrow(TypeError);
    const text = await registry.metrics();
    expect(text).toContain('d_count{topic="t"} 1');
    expect(text).toContain('d_sum{topic="t"} 0.5');
  });
});
