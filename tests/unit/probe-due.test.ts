import { describe, expect, test } from "bun:test";
import { PROBE_AGAIN_MS, probeDue } from "../../src/roles/central/sweeper.ts";

describe("when the sweeper probes a CP or a session again", () => {
  const interval = 5_000;

  test("a CP never probed is probed at once", () => {
    expect(probeDue(undefined, "1000", 0, interval)).toBe(true);
  });

  test("a CP still silent since the same heartbeat is not probed again every interval: the first probe waits in Kafka for its owner", () => {
    const last = { at: 0, what: "1000" };
    for (const now of [interval, 3 * interval, PROBE_AGAIN_MS - 1]) expect(probeDue(last, "1000", now, interval)).toBe(false);
    // Only as a safety net, should its owner have failed to apply it.
    expect(probeDue(last, "1000", PROBE_AGAIN_MS, interval)).toBe(true);
  });

  test("a CP silent since a newer heartbeat is probed again after an interval", () => {
    const last = { at: 0, what: "1000" };
    expect(probeDue(last, "2000", interval - 1, interval)).toBe(false);
    expect(probeDue(last, "2000", interval, interval)).toBe(true);
  });

  test("a session overdue for a new deadline is probed at once, for the same one only after the safety net", () => {
    const last = { at: 0, what: "2026-12-01 04:00:00+00" };
    expect(probeDue(last, "2026-12-01 04:00:05+00", 1, 0)).toBe(true);
    expect(probeDue(last, "2026-12-01 04:00:00+00", 3_000, 0)).toBe(false);
    expect(probeDue(last, "2026-12-01 04:00:00+00", PROBE_AGAIN_MS, 0)).toBe(true);
  });
});
