/** Percentiles of a list of figures (milliseconds, usually). */
export interface Summary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export function summarise(values: number[]): Summary | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!);
  const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
  return { count: sorted.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: Math.round(sorted[sorted.length - 1]!), mean: Math.round(mean) };
}

/** A series of [seconds, figure] samples. */
export type Series = [number, number][];

/** Samples of every Central at once: [seconds, one figure per Central (null: it did not answer)]. */
export type PerCentral = [number, (number | null)[]][];

/** The first Central's figures of a per-Central series, without the samples it did not answer. */
export function firstCentral(series: PerCentral): Series {
  return series.flatMap(([t, figures]) => (figures[0] == null ? [] : [[t, figures[0]] as [number, number]]));
}

/**
 * The mean of each third of a series, by sample: how a figure that swings between collections
 * (a heap's sawtooth) moves over a window, which its first and last samples alone cannot say.
 */
export function thirds(series: Series): [number, number, number] | undefined {
  if (series.length < 3) return undefined;
  const part = (k: number) => series.slice(Math.floor((k * series.length) / 3), Math.floor(((k + 1) * series.length) / 3));
  return [meanOf(part(0))!, meanOf(part(1))!, meanOf(part(2))!];
}

/** The least-squares slope of a series, per minute (its unit a minute); undefined under two samples. */
export function trendPerMinute(series: Series): number | undefined {
  if (series.length < 2) return undefined;
  const n = series.length;
  const meanT = series.reduce((s, [t]) => s + t, 0) / n;
  const meanX = series.reduce((s, [, x]) => s + x, 0) / n;
  let num = 0;
  let den = 0;
  for (const [t, x] of series) {
    num += (t - meanT) * (x - meanX);
    den += (t - meanT) ** 2;
  }
  return den === 0 ? undefined : Math.round((num / den) * 60 * 10) / 10;
}

/**
 * A series cut into windows of `seconds` by its samples' times (the first from 0), each with its
 * samples: how a soak longer than the goal's ten minutes settles, window by window. A last
 * window with less than half its span of samples is left out (a lone sample at the end).
 */
export function windowsOf(series: Series, seconds: number): { from: number; samples: Series }[] {
  if (!(seconds > 0)) return [];
  const windows = new Map<number, Series>();
  for (const sample of series) {
    const k = Math.floor(sample[0] / seconds);
    const window = windows.get(k);
    if (window) window.push(sample);
    else windows.set(k, [sample]);
  }
  return [...windows.entries()]
    .sort(([a], [b]) => a - b)
    .filter(([, samples]) => samples.at(-1)![0] - samples[0]![0] >= seconds / 2)
    .map(([k, samples]) => ({ from: k * seconds, samples }));
}

/** `a` minus `b` at the times both have a sample: what of one figure is not the other. */
export function differenceOf(a: Series, b: Series): Series {
  const byTime = new Map(b);
  return a.flatMap(([t, x]) => {
    const y = byTime.get(t);
    return y === undefined ? [] : [[t, x - y] as [number, number]];
  });
}

/** The mean of a series' figures, rounded; undefined when it has none. */
export function meanOf(series: Series): number | undefined {
  return series.length ? Math.round(series.reduce((sum, [, x]) => sum + x, 0) / series.length) : undefined;
}

/** An event-loop delay this long counts as a pause: a message arriving then waits at least as long. */
export const LOOP_PAUSE_MS = 250;

/** Of the event loop's longest delays (ms, per read and Central; null: no answer), how many reached LOOP_PAUSE_MS, and the longest. */
export function loopPausesOf(series: PerCentral): { over: number; longestMs: number | null } {
  const lags = series.flatMap(([, ms]) => ms.filter((m): m is number => m !== null));
  return { over: lags.filter((m) => m >= LOOP_PAUSE_MS).length, longestMs: lags.length ? Math.max(...lags) : null };
}

/**
 * Reads of the lag a warm-up needs in a row, a second apart, all under its bound, before the
 * window opens: one read under it can fall in a dip of a Central still catching up (a run of
 * 2026-12-04 opened at 5,380 and read 12,700 five seconds later, its p99 1,778 ms).
 */
export const CAUGHT_UP_READS = 3;

/**
 * Reads the lag every `everyMs` until `reads` reads in a row are at most `bound` or `untilMs`
 * (a deadline in `now`'s clock) passes; whether it got there.
 */
export async function caughtUpInARow(
  readLag: () => Promise<number>,
  o: { bound: number; reads: number; everyMs: number; untilMs: number; now?: () => number; sleep?: (ms: number) => Promise<void> },
): Promise<boolean> {
  const now = o.now ?? (() => performance.now());
  const sleep = o.sleep ?? ((ms: number) => Bun.sleep(ms));
  let inARow = 0;
  for (;;) {
    inARow = (await readLag()) <= o.bound ? inARow + 1 : 0;
    if (inARow >= o.reads) return true;
    if (now() >= o.untilMs) return false;
    await sleep(o.everyMs);
  }
}

/** A drain's rate is taken from this share of the backlog to that one: the group's first join is not the work. */
export const DRAIN_FROM = 0.1;
export const DRAIN_TO = 0.9;

/** One read of a drain: when (ms), messages applied so far, and the group joins of all Centrals so far (null: a Central did not answer). */
export interface DrainSample {
  atMs: number;
  done: number;
  joins: number | null;
}

/**
 * A drain's rate once its consumer group settled: from the first read after the last group join
 * seen (or from 10% of the backlog, if later) to 90% of it. A join that rebalances the group
 * stops every Central until it is over, a cost of starting Centrals, not of the work; the 10–90%
 * rate leaves out the first join but not a later one. Undefined when the group settled only after
 * 90% of the backlog, or the last read has no join count.
 */
export function settledDrainRate(samples: DrainSample[], backlog: number): { perSecond: number; fromDone: number } | undefined {
  const lastJoins = samples.at(-1)?.joins;
  if (lastJoins == null) return undefined;
  // joins only add up: the first read with the last count came after the last join
  const settled = samples.findIndex((s) => s.joins === lastJoins);
  const start = samples.findIndex((s, i) => i >= settled && s.done >= backlog * DRAIN_FROM);
  const end = samples.findIndex((s) => s.done >= backlog * DRAIN_TO);
  if (settled < 0 || start < 0 || end <= start) return undefined;
  const [a, b] = [samples[start]!, samples[end]!];
  return { perSecond: Math.round((b.done - a.done) / ((b.atMs - a.atMs) / 1000)), fromDone: a.done };
}
