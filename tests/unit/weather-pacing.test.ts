import { describe, expect, test } from "bun:test";
import { Backoff, type Clock, effectiveIntervalMs, Pacer } from "../../src/roles/weather/pacing.ts";
import { minMsBetweenCalls, retryAfter } from "../../src/roles/weather/providers/openweather.ts";

/** A clock that only moves when someone sleeps on it. */
function fakeClock(): Clock {
  let now = 0;
  return {
    now: () => now,
    sleep: async (ms) => {
      now += Math.max(0, ms);
    },
  };
}

describe("the free plan's limits", () => {
  test("allow one call every second by the minute, but the monthly quota needs one every 2.68 s", () => {
    expect(minMsBetweenCalls(60, Number.MAX_SAFE_INTEGER)).toBe(1000);
    expect(minMsBetweenCalls(60, 1_000_000)).toBeCloseTo(2678.4, 1);
  });

  test("a paid plan's higher limits shorten the gap", () => {
    expect(minMsBetweenCalls(600, 10_000_000)).toBeCloseTo(267.84, 1);
  });
});

describe("the interval between rounds", () => {
  test("is the configured one when the cities fit in it", () => {
    expect(effectiveIntervalMs(4000, 1, 2678.4)).toBe(4000);
  });

  test("stretches to N calls' worth of the plan's gap when there are many cities", () => {
    expect(effectiveIntervalMs(4000, 10, 1000)).toBe(10_000);
    expect(effectiveIntervalMs(4000, 100, 2678.4)).toBeCloseTo(267_840, 0);
  });

  test("is never stretched for the offline provider", () => {
    expect(effectiveIntervalMs(4000, 500, 0)).toBe(4000);
  });

  test("keeps N cities under 60 calls in any minute and under a million a month", () => {
    const gap = minMsBetweenCalls(60, 1_000_000);
    for (const cities of [1, 2, 7, 30, 200]) {
      const interval = effectiveIntervalMs(4000, cities, gap);
      const perMinute = (cities * 60_000) / interval;
      const perMonth = (cities * 31 * 24 * 3600 * 1000) / interval;
      expect(perMinute).toBeLessThanOrEqual(60);
      expect(perMonth).toBeLessThanOrEqual(1_000_000 + 1e-6);
    }
  });
});

describe("the pacer", () => {
  test("spaces calls by the plan's gap, across rounds", async () => {
    const clock = fakeClock();
    const pacer = new Pacer(1000, clock);
    const at: number[] = [];
    for (let i = 0; i < 5; i++) {
      await pacer.turn();
      at.push(clock.now());
    }
    expect(at).toEqual([0, 1000, 2000, 3000, 4000]);
  });

  test("never lets more than 60 calls through in any minute", async () => {
    const clock = fakeClock();
    const pacer = new Pacer(1000, clock);
    const at: number[] = [];
    for (let i = 0; i < 300; i++) {
      await pacer.turn();
      at.push(clock.now());
    }
    const busiest = Math.max(...at.map((start) => at.filter((t) => t >= start && t < start + 60_000).length));
    expect(busiest).toBeLessThanOrEqual(60);
  });

  test("does not wait when the gap has already passed", async () => {
    const clock = fakeClock();
    const pacer = new Pacer(1000, clock);
    await pacer.turn();
    await clock.sleep(5000);
    await pacer.turn();
    expect(clock.now()).toBe(5000);
  });
});

describe("the back-off after a 429", () => {
  test("waits as long as Retry-After says", () => {
    const clock = fakeClock();
    const backoff = new Backoff(15_000, 600_000, clock);
    expect(backoff.refuse(30_000)).toBe(30_000);
    expect(backoff.remainingMs()).toBe(30_000);
  });

  test("doubles from the base without Retry-After, up to the maximum", () => {
    const backoff = new Backoff(15_000, 100_000, fakeClock());
    expect([1, 2, 3, 4].map(() => backoff.refuse())).toEqual([15_000, 30_000, 60_000, 100_000]);
  });

  test("starts from the base again after a call goes through", () => {
    const backoff = new Backoff(15_000, 600_000, fakeClock());
    backoff.refuse();
    backoff.refuse();
    backoff.succeed();
    expect(backoff.remainingMs()).toBe(0);
    expect(backoff.refuse()).toBe(15_000);
  });

  test("ends when its time has passed", async () => {
    const clock = fakeClock();
    const backoff = new Backoff(1000, 10_000, clock);
    backoff.refuse();
    await clock.sleep(999);
    expect(backoff.remainingMs()).toBe(1);
    await clock.sleep(1);
    expect(backoff.remainingMs()).toBe(0);
  });
});

describe("Retry-After", () => {
  test("is read as seconds", () => {
    expect(retryAfter("120")).toBe(120_000);
  });

  test("is read as an HTTP date", () => {
    const now = Date.parse("Wed, 21 Oct 2015 07:28:00 GMT");
    expect(retryAfter("Wed, 21 Oct 2015 07:28:30 GMT", now)).toBe(30_000);
  });

  test("is ignored when absent or unreadable", () => {
    expect(retryAfter(null)).toBeUndefined();
    expect(retryAfter("soon")).toBeUndefined();
  });
});
