/** The latest value per key, delivered one batch at a time; a value may be combined with the one still waiting. */
import { describe, expect, test } from "bun:test";
import { LatestPerKey } from "../../src/lib/latest-per-key.ts";

describe("the latest value per key", () => {
  test("while a delivery is on its way, newer values replace the waiting ones and leave together", async () => {
    const delivered: number[][] = [];
    let release: () => void = () => {};
    const latest = new LatestPerKey<number>(async (values) => {
      delivered.push(values);
      await new Promise<void>((resolve) => {
        release = resolve;
      });
    });
    latest.put("a", 1);
    latest.put("a", 2);
    latest.put("b", 3);
    latest.put("a", 4);
    release();
    await Bun.sleep(1);
    release();
    await latest.idle();
    expect(delivered).toEqual([[1], [4, 3]]);
  });

  test("combines a value with the one waiting for its key when asked, and only then", async () => {
    const delivered: { v: number; first?: number }[][] = [];
    let release: () => void = () => {};
    const latest = new LatestPerKey<{ v: number; first?: number }>(async (values) => {
      delivered.push(values);
      await new Promise<void>((resolve) => {
        release = resolve;
      });
    });
    const keepFirst = (waiting: { v: number; first?: number }, next: { v: number; first?: number }) => ({ ...next, first: next.first ?? waiting.first });
    latest.put("a", { v: 0 });
    latest.put("a", { v: 1, first: 1 }, keepFirst);
    latest.put("a", { v: 2 }, keepFirst);
    latest.put("b", { v: 5, first: 5 });
    latest.put("b", { v: 6 });
    release();
    await Bun.sleep(1);
    release();
    await latest.idle();
    expect(delivered).toEqual([[{ v: 0 }], [{ v: 2, first: 1 }, { v: 6 }]]);
  });
});
