import { describe, expect, test } from "bun:test";
import { costOf } from "../../src/domain/billing.ts";
import { Supply } from "../../src/roles/cp-engine/supply.ts";

describe("a simulated supply", () => {
  test("meters the energy of the time that actually passed, even when a tick comes late", () => {
    const s = new Supply("S-1", "D_1", 0.3, 36, 0);
    expect(s.read(1000).energyKwh).toBe(0.01);
    expect(s.read(3500).energyKwh).toBe(0.035);
    const r = s.read(3500);
    expect(r).toEqual({ sessionId: "S-1", powerKw: 36, energyKwh: 0.035, costEur: costOf(0.035, 0.3), elapsedS: 3.5 });
  });

  test("knows when the maximum duration is reached", () => {
    const s = new Supply("S-1", "D_1", 0.3, 22, 1000);
    expect(s.overtime(10_999, 10)).toBe(false);
    expect(s.overtime(11_000, 10)).toBe(true);
  });
});
