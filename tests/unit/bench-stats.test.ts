import { describe, expect, test } from "bun:test";
import {
  caughtUpInARow,
  type DrainSample,
  differenceOf,
  firstCentral,
  LOOP_PAUSE_MS,
  loopPausesOf,
  meanOf,
  type PerCentral,
  type Series,
  settledDrainRate,
  thirds,
  trendPerMinute,
  windowsOf,
} from "../../bench/stats.ts";

describe("the bench's reading of a memory series", () => {
  test("a sawtooth around a level reads flat; the same sawtooth on a rise reads the rise", () => {
    // every 5 s for 10 minutes: 400 MiB, a collection's swing of ±100 MiB every other sample
    const level: Series = Array.from({ length: 121 }, (_, i) => [i * 5, 400 + (i % 2 === 0 ? -100 : 100)]);
    expect(Math.abs(trendPerMinute(level)!)).toBeLessThan(1);
    const [a, b, c] = thirds(level)!;
    expect(Math.max(a, b, c) - Math.min(a, b, c)).toBeLessThanOrEqual(10);

    // the same swing on 6 MiB a minute
    const rising: Series = level.map(([t, x]) => [t, x + (6 * t) / 60]);
    expect(trendPerMinute(rising)).toBeCloseTo(6, 0);
    const [r1, r2, r3] = thirds(rising)!;
    expect(r2 - r1).toBeGreaterThan(15); // a third of ten minutes at 6 MiB/min is 20 MiB
    expect(r3 - r2).toBeGreaterThan(15);
  });

  test("thirds by sample, and too few samples is no figure", () => {
    const series: Series = [
      [0, 1],
      [5, 2],
      [10, 3],
      [15, 10],
      [20, 20],
      [25, 30],
    ];
    expect(thirds(series)).toEqual([2, 7, 25]); // (1+2)/2, (3+10)/2, (20+30)/2, rounded
    expect(thirds(series.slice(0, 2))).toBeUndefined();
    const perCentral: PerCentral = [
      [0, [5, 6]],
      [5, [null, 7]],
      [10, [8]],
    ];
    expect(firstCentral(perCentral)).toEqual([
      [0, 5],
      [10, 8],
    ]); // the first Central's figures; a sample it did not answer is left out
    expect(trendPerMinute(series.slice(0, 1))).toBeUndefined();
    expect(
      trendPerMinute([
        [5, 1],
        [5, 2],
      ]),
    ).toBeUndefined(); // no time between the samples
  });

  test("a long soak by ten-minute windows: a rise that settles reads as each window's own trend", () => {
    // every 5 s for 30 minutes (0..1800 s): 6 MiB a minute for ten minutes, 3 for the next ten, then level
    const rss: Series = Array.from({ length: 361 }, (_, i) => {
      const t = i * 5;
      const x = 300 + (6 * Math.min(t, 600)) / 60 + (3 * Math.max(0, Math.min(t, 1200) - 600)) / 60;
      return [t, x + (i % 2 === 0 ? -40 : 40)];
    });
    const windows = windowsOf(rss, 600);
    expect(windows.map((w) => w.from)).toEqual([0, 600, 1200]); // the lone sample at 1800 s is no window
    expect(windows.map((w) => w.samples.length)).toEqual([120, 120, 120]);
    const trends = windows.map((w) => trendPerMinute(w.samples)!);
    expect(trends[0]).toBeCloseTo(6, 0);
    expect(trends[1]).toBeCloseTo(3, 0);
    expect(Math.abs(trends[2]!)).toBeLessThan(1);
    expect(meanOf(windows[2]!.samples)).toBe(390); // 300 + 60 + 30, the swing averaging out
    expect(meanOf([])).toBeUndefined();
    expect(windowsOf(rss, 0)).toEqual([]);
    // a window cut short (a soak of 25 minutes) counts when it holds at least half its span
    expect(
      windowsOf(
        rss.filter(([t]) => t <= 1500),
        600,
      ).map((w) => w.from),
    ).toEqual([0, 600, 1200]);
    expect(
      windowsOf(
        rss.filter(([t]) => t <= 1440),
        600,
      ).map((w) => w.from),
    ).toEqual([0, 600]);
  });

  test("what of the RSS is not the heap: a difference at the times both were read", () => {
    const rss: Series = [
      [0, 300],
      [5, 320],
      [10, 330],
    ];
    const heap: Series = [
      [0, 100],
      [10, 90],
    ]; // no answer at 5 s
    expect(differenceOf(rss, heap)).toEqual([
      [0, 200],
      [10, 240],
    ]);
  });

  test("event-loop pauses: the reads at or over the bound are counted over every Central, and the longest kept", () => {
    const series: PerCentral = [
      [5, [12, 40]],
      [10, [LOOP_PAUSE_MS, null]], // exactly the bound counts; a Central that did not answer does not
      [15, [760, LOOP_PAUSE_MS - 1]],
    ];
    expect(loopPausesOf(series)).toEqual({ over: 2, longestMs: 760 });
    expect(loopPausesOf([[5, [null]]])).toEqual({ over: 0, longestMs: null });
  });
});

describe("the bench's warm-up", () => {
  /** A clock and a lag reader that answer `lags` in turn, a second of the clock per read. */
  function reader(lags: number[]) {
    let t = 0;
    let i = 0;
    return {
      read: async () => lags[Math.min(i++, lags.length - 1)]!,
      reads: () => i,
      opts: (untilS: number) => ({ bound: 1000, reads: 3, everyMs: 1000, untilMs: untilS * 1000, now: () => t, sleep: async (ms: number) => void (t += ms) }),
    };
  }

  test("opens after three reads in a row under the bound, not after one in a dip", async () => {
    const r = reader([5000, 900, 12_700, 800, 700, 600, 500]);
    expect(await caughtUpInARow(r.read, r.opts(60))).toBe(true);
    expect(r.reads()).toBe(6); // 900 alone did not open it; 800, 700, 600 did
  });

  test("gives up at the deadline when Central never stays caught up", async () => {
    const r = reader([900, 2000, 900, 900, 2000, 900, 900, 2000, 900, 900, 2000]);
    expect(await caughtUpInARow(r.read, r.opts(8))).toBe(false);
    expect(r.reads()).toBe(9); // reads at 0..8 s, none three in a row
  });

  test("already caught up: three reads, two seconds", async () => {
    const r = reader([10, 10, 10]);
    expect(await caughtUpInARow(r.read, r.opts(60))).toBe(true);
    expect(r.reads()).toBe(3);
  });
});

describe("a drain's rate once its group settled", () => {
  // reads every second of a backlog of 100,000: [seconds, done, joins]
  const drain = (reads: [number, number, number | null][]): DrainSample[] => reads.map(([t, done, joins]) => ({ atMs: t * 1000, done, joins }));

  test("a join after 10% of the backlog moves the start past it: the rebalance's pause is left out", () => {
    const samples = drain([
      [0, 0, 1],
      [1, 12_000, 1], // one Central alone past 10%
      [2, 14_000, 2], // the second joined: the group rebalances, little is applied
      [3, 15_000, 3], // the first joined again
      [4, 35_000, 3],
      [5, 55_000, 3],
      [6, 75_000, 3],
      [7, 95_000, 3],
      [8, 100_000, 3],
    ]);
    // from the first read after the last join (15,000 at 3 s) to 90% (95,000 at 7 s)
    expect(settledDrainRate(samples, 100_000)).toEqual({ perSecond: 20_000, fromDone: 15_000 });
  });

  test("a group that settled before 10% is measured from 10%, as the whole drain is", () => {
    const samples = drain([
      [0, 0, 1],
      [1, 2_000, 2],
      [2, 20_000, 2],
      [3, 40_000, 2],
      [4, 60_000, 2],
      [5, 80_000, 2],
      [6, 95_000, 2],
      [7, 100_000, 2],
    ]);
    expect(settledDrainRate(samples, 100_000)).toEqual({ perSecond: 18_750, fromDone: 20_000 });
  });

  test("a group that settled only after 90%, or whose last read has no joins, gives no figure", () => {
    const late = drain([
      [0, 0, 1],
      [1, 50_000, 1],
      [2, 92_000, 1],
      [3, 96_000, 2],
      [4, 100_000, 2],
    ]);
    expect(settledDrainRate(late, 100_000)).toBeUndefined();
    const unanswered = drain([
      [0, 0, 2],
      [1, 50_000, 2],
      [2, 100_000, null],
    ]);
    expect(settledDrainRate(unanswered, 100_000)).toBeUndefined();
  });

  test("a read where a Central did not answer does not count as settled", () => {
    const samples = drain([
      [0, 0, 1],
      [1, 20_000, null],
      [2, 40_000, 2],
      [3, 60_000, 2],
      [4, 95_000, 2],
      [5, 100_000, 2],
    ]);
    expect(settledDrainRate(samples, 100_000)).toEqual({ perSecond: 27_500, fromDone: 40_000 });
  });
});
