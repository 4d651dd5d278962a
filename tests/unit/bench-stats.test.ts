import { describe, expect, test } from "bun:test";
import {
  caughtUpInARow,
  type DrainSample,
  firstCentral,
  LOOP_PAUSE_MS,
  loopPausesOf,
  type PerCentral,
  type Series,
  settledDrainRate,
  thirds,
  trendPerMinute,
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
