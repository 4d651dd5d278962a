/**
 * The load generator's sessions: a run starts in the middle of a long one, so the rate at which
 * sessions end does not climb over its first minutes (it did when what was left of the first
 * sessions was drawn uniformly).
 */
import { expect, test } from "bun:test";
import { sessionLeft, sessionLength } from "../../bench/session-lengths.ts";

/** A seeded generator, so that the figures below are the same on every run. */
function seeded(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

test("a new session lasts between half and one and a half times the mean", () => {
  const random = seeded(1);
  const lengths = Array.from({ length: 20_000 }, () => sessionLength(600, random));
  expect(Math.min(...lengths)).toBeGreaterThanOrEqual(300);
  expect(Math.max(...lengths)).toBeLessThanOrEqual(900);
  expect(lengths.reduce((a, b) => a + b, 0) / lengths.length).toBeCloseTo(600, -1);
});

test("what is left of a session under way averages E[L²] / 2E[L], not half the mean", () => {
  const random = seeded(2);
  const left = Array.from({ length: 100_000 }, () => sessionLeft(600, random));
  // L uniform on [300, 900] s: E[L²] / 2E[L] = (900³ − 300³) / (3 · 600) / 1200 = 325 s.
  expect(left.reduce((a, b) => a + b, 0) / left.length).toBeCloseTo(325, -1);
  expect(Math.max(...left)).toBeLessThanOrEqual(900);
  expect(Math.min(...left)).toBeGreaterThanOrEqual(0);
});

test("10,000 chargers end about as many sessions in every minute of the first twenty", () => {
  const random = seeded(3);
  const mean = 600;
  const restS = 5;
  const perMinute = new Array<number>(20).fill(0);
  for (let c = 0; c < 10_000; c++)
    for (let end = sessionLeft(mean, random); end < 1200; end += restS + sessionLength(mean, random)) perMinute[Math.floor(end / 60)]!++;
  const steady = (10_000 / (mean + restS)) * 60; // sessions ending a minute in a network that has run for long
  for (const n of perMinute) expect(Math.abs(n - steady) / steady).toBeLessThan(0.08);
});
