/**
 * Memos of what was done lately per key (a session's progress sent, a session probed) hold only
 * what the last `keepMs` touched: an old entry reads as missing and is forgotten on the next
 * set, however many keys came and went before.
 */
import { describe, expect, test } from "bun:test";
import { RecentMap } from "../../src/lib/recent-map.ts";

describe("RecentMap", () => {
  test("a value is read back within keepMs and not after", () => {
    const m = new RecentMap<string>(1000);
    m.set("S1", "a", 10_000);
    expect(m.get("S1", 10_000)).toBe("a");
    expect(m.get("S1", 11_000)).toBe("a"); // exactly keepMs old: still there
    expect(m.get("S1", 11_001)).toBeUndefined();
    expect(m.get("S2", 10_000)).toBeUndefined();
  });

  test("sessions that come and go leave only the last keepMs behind", () => {
    const m = new RecentMap<number>(5000);
    // 16 new sessions a second for ten minutes, each set once a second while it lasts (10 s).
    for (let t = 0; t < 600_000; t += 1000) {
      const first = Math.max(0, (t / 1000 - 9) * 16);
      for (let id = first; id < (t / 1000 + 1) * 16; id++) m.set(`S${id}`, t, t);
    }
    // Every session still going was set in the last second; the ended ones were forgotten.
    expect(m.size).toBeLessThanOrEqual(16 * 10 + 16 * 5);
    expect(m.get("S0", 599_000)).toBeUndefined();
    expect(m.get(`S${599 * 16}`, 599_000)).toBe(599_000);
  });

  test("setting a key again moves it to the young end, so it outlives keys set before it", () => {
    const m = new RecentMap<number>(1000);
    m.set("A", 1, 0);
    m.set("B", 2, 500);
    m.set("A", 3, 900);
    m.set("C", 4, 1600); // B (500) is now older than keepMs; A (900) is not
    expect(m.get("A", 1600)).toBe(3);
    expect(m.get("B", 1600)).toBeUndefined();
    expect(m.size).toBe(2);
  });

  test("a key set many times is forgotten once its last set is old, not its first", () => {
    const m = new RecentMap<number>(1000);
    for (let t = 0; t <= 900; t += 100) m.set("A", t, t);
    m.set("B", 0, 1800); // A's sets at 0-700 are old now, its last (900) is not
    expect(m.get("A", 1800)).toBe(900);
    expect(m.size).toBe(2);
    m.set("C", 0, 1950); // now the last one is old too
    expect(m.get("A", 1950)).toBeUndefined();
    expect(m.size).toBe(2);
    m.delete("B");
    m.set("B", 1, 2500); // set again after a delete: held as new
    expect(m.get("B", 2500)).toBe(1);
  });

  test("a clock set back forgets nothing it should keep", () => {
    const m = new RecentMap<number>(1000);
    m.set("A", 1, 10_000);
    m.set("B", 2, 5_000); // the clock went back 5 s
    m.set("C", 3, 10_500);
    expect(m.get("A", 10_500)).toBe(1);
    expect(m.get("C", 10_500)).toBe(3);
    expect(m.get("B", 10_500)).toBeUndefined(); // 5.5 s old by the clock now
    m.set("D", 4, 11_200); // A is old now, and B behind it goes with it; C stays
    expect(m.size).toBe(2);
    expect(m.get("C", 11_200)).toBe(3);
  });

  test("delete and clear", () => {
    const m = new RecentMap<number>(1000);
    m.set("A", 1, 0);
    m.set("B", 2, 0);
    m.delete("A");
    expect(m.get("A", 0)).toBeUndefined();
    expect(m.size).toBe(1);
    m.clear();
    expect(m.size).toBe(0);
  });
});
