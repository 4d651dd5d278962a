/** The latest value per key, delivered one batch at a time; a value may be combined with the one still waiting. */
import { describe, expect, test } from "bun:test";
import { LatestPerKey } from "../../src/lib/latest-per-key.ts";

/** A LatestPerKey with a gap whose deliveries are recorded with the time each started. */
function recorded(gapMs: number) {
  const starts: { at: number; values: number[] }[] = [];
  const latest = new LatestPerKey<number>(async (values) => {
    starts.push({ at: performance.now(), values });
  }, gapMs);
  return { starts, latest };
}

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

  test("with a gap, a delivery starts no sooner than the gap after the one before; what came meanwhile leaves together", async () => {
    const { starts, latest } = recorded(80);
    latest.put("a", 1);
    await Bun.sleep(5);
    latest.put("a", 2);
    latest.put("b", 3);
    await Bun.sleep(30);
    latest.put("a", 4);
    while (starts.length < 2) await Bun.sleep(5);
    expect(starts.map((s) => s.values)).toEqual([[1], [4, 3]]);
    expect(starts[1]!.at - starts[0]!.at).toBeGreaterThanOrEqual(79);
  });

  test("idle() delivers what waits at once instead of waiting out the gap", async () => {
    const { starts, latest } = recorded(60_000);
    latest.put("a", 1);
    await Bun.sleep(5);
    latest.put("a", 2);
    const asked = performance.now();
    await latest.idle();
    expect(starts.map((s) => s.values)).toEqual([[1], [2]]);
    expect(starts[1]!.at - asked).toBeLessThan(1_000);
  });
});
