/**
 * Central's share of the latency, from its own histogram: `evnet_central_message_delay_seconds`
 * (from a message's broker timestamp to the commit of the batch that applied it). The bench
 * reads each Central's /metrics when the window opens and when it closes; the difference is the
 * window's messages, and its quantiles are read the way Prometheus' histogram_quantile reads
 * them (linearly within the bucket they fall in), so they are as fine as the buckets.
 */
import { BATCH_PHASES } from "../src/roles/central/metrics.ts";
import { type Family, parsePrometheusText } from "../tests/support/prometheus-text.ts";

const FAMILY = "evnet_central_message_delay_seconds";

/** Cumulative counts by upper bound (seconds; Infinity last), for one topic, summed over the Centrals. */
export type Buckets = Map<number, number>;

/** A Central's /metrics, family by family; undefined when it did not answer. */
async function scrapeFamilies(url: string) {
  const res = await fetch(`${url}/metrics`).catch(() => undefined);
  if (!res?.ok) return undefined;
  return parsePrometheusText(await res.text());
}

/** One metric family of a Central's /metrics; undefined when it did not answer or has no such figure. */
async function scrapeFamily(url: string, name: string) {
  return (await scrapeFamilies(url))?.get(name);
}

/** The histograms a steady window is read from, summed over the Centrals (see `scrapeHistograms`). */
export interface WindowHistograms {
  /** CP events' delay (`evnet_central_message_delay_seconds`); undefined when a Central did not answer or has no such figure. */
  delay: Buckets | undefined;
  /** Each batch phase's buckets (`evnet_central_batch_phase_seconds`: BATCH_PHASES); none when a Central did not answer or has no such figure. */
  phases: Map<string, Buckets>;
}

/** Both of a window's histograms from one read of each Central's /metrics (a read runs Central's collectors: its lag from the broker, its outbox from the database). */
export async function scrapeHistograms(urls: string[], topic: string): Promise<WindowHistograms> {
  const read = await Promise.all(urls.map(scrapeFamilies));
  return {
    delay: bucketsOf(read, FAMILY, "topic", [topic]).get(topic),
    phases: bucketsOf(read, "evnet_central_batch_phase_seconds", "phase", BATCH_PHASES),
  };
}

/**
 * A histogram's cumulative buckets for each of `values` of its label `label`, summed over the
 * Centrals' reads; empty when one did not answer or has no such family (a tree without it: BENCH_MAIN).
 */
function bucketsOf(read: (Map<string, Family> | undefined)[], family: string, label: string, values: readonly string[]): Map<string, Buckets> {
  const totals = new Map<string, Buckets>(values.map((v) => [v, new Map()]));
  for (const families of read) {
    const found = families?.get(family);
    if (!found) return new Map();
    for (const s of found.samples) {
      const total = totals.get(s.labels[label] ?? "");
      if (s.name !== `${family}_bucket` || !total) continue;
      const le = s.labels.le === "+Inf" ? Number.POSITIVE_INFINITY : Number(s.labels.le);
      total.set(le, (total.get(le) ?? 0) + s.value);
    }
  }
  return totals;
}

/**
 * Each Central's group joins so far (`evnet_central_group_joins_total`): 1 for a Central that
 * joined once; undefined for one that did not answer or has no such figure (BENCH_MAIN).
 */
export async function scrapeGroupJoins(urls: string[]): Promise<(number | undefined)[]> {
  return Promise.all(urls.map(async (url) => (await scrapeFamily(url, "evnet_central_group_joins_total"))?.samples[0]?.value));
}

/** What one read of a Central's /metrics says of its process (MiB, ms); null where it did not answer. */
export interface ProcessFigures {
  /** The JavaScript heap in use (`nodejs_heap_size_used_bytes`): live objects and garbage not yet collected. */
  heapUsedMiB: number | null;
  /** The space the engine holds for its heap (`nodejs_heap_size_total_bytes`): what of the RSS the heap accounts for. */
  heapTotalMiB: number | null;
  /**
   * The event loop's longest delay since the read before (`nodejs_eventloop_lag_max_seconds`,
   * which prom-client resets at every read): how long the thread was held up at once, by a
   * collection or by work that did not yield.
   */
  loopLagMaxMs: number | null;
}

/** Bytes as whole MiB; null for a figure that was not there. */
const mib = (bytes: number | undefined) => (bytes === undefined ? null : Math.round(bytes / 2 ** 20));

export async function scrapeProcessFigures(urls: string[]): Promise<ProcessFigures[]> {
  return Promise.all(
    urls.map(async (url) => {
      const families = await scrapeFamilies(url);
      const value = (name: string) => families?.get(name)?.samples[0]?.value;
      const lag = value("nodejs_eventloop_lag_max_seconds");
      return {
        heapUsedMiB: mib(value("nodejs_heap_size_used_bytes")),
        heapTotalMiB: mib(value("nodejs_heap_size_total_bytes")),
        loopLagMaxMs: lag === undefined ? null : Math.round(lag * 1000),
      };
    }),
  );
}

export interface DelaySummary {
  count: number;
  p50: number;
  p99: number;
}

/** The window's delays (milliseconds): `after` less `before`. */
export function delayBetween(before: Buckets | undefined, after: Buckets | undefined): DelaySummary | undefined {
  if (!before || !after) return undefined;
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const counts = bounds.map((le) => (after.get(le) ?? 0) - (before.get(le) ?? 0));
  const count = counts[counts.length - 1] ?? 0;
  if (count <= 0) return undefined;
  const quantile = (q: number) => {
    const rank = q * count;
    let lower = 0;
    let below = 0;
    for (const [i, le] of bounds.entries()) {
      const upTo = counts[i]!;
      if (upTo >= rank) {
        if (le === Number.POSITIVE_INFINITY) return lower * 1000; // beyond the last bound: as Prometheus, its bound
        return (lower + ((le - lower) * (rank - below)) / Math.max(1, upTo - below)) * 1000;
      }
      lower = le;
      below = upTo;
    }
    return lower * 1000;
  };
  return { count, p50: Math.round(quantile(0.5)), p99: Math.round(quantile(0.99)) };
}
