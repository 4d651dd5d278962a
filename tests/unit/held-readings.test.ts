/**
 * The readings Central holds back from their rows: a session keeps its newest only, a
 * partition's earliest offset not written is where its commits stop, and a reading written (or
 * a session closed) goes unless a newer one came meanwhile.
 */
import { describe, expect, test } from "bun:test";
import { type HeldReading, HeldReadings, partitionKeyOf } from "../../src/roles/central/held-readings.ts";

const P0 = partitionKeyOf("cp.events", 0);
const P1 = partitionKeyOf("cp.events", 1);

function reading(sessionId: string, seq: number, offset: number, partition = P0): Omit<HeldReading, "since"> {
  return {
    sessionId,
    cpId: `CP_${sessionId}`,
    powerKw: 11,
    energyKwh: seq / 10,
    costEur: seq / 20,
    seq,
    at: new Date(0).toISOString(),
    partition,
    offset: BigInt(offset),
  };
}

describe("held readings", () => {
  test("a session keeps its newest reading, and the time its row first waited", () => {
    const held = new HeldReadings(5000);
    held.hold(reading("S1", 3, 10), 1000);
    held.hold(reading("S1", 2, 11), 2000); // older: changes nothing
    expect(held.get("S1")).toMatchObject({ seq: 3, offset: 10n, since: 1000 });
    held.hold(reading("S1", 4, 12), 3000);
    expect(held.get("S1")).toMatchObject({ seq: 4, offset: 12n, energyKwh: 0.4, since: 1000 });
    expect(held.size).toBe(1);
  });

  test("a partition's commits stop at the earliest reading not written, and move on as they are", () => {
    const held = new HeldReadings(5000);
    expect(held.keepFrom("cp.events", 0)).toBeUndefined();
    held.hold(reading("S1", 1, 10));
    held.hold(reading("S2", 1, 11));
    held.hold(reading("S3", 1, 5, P1));
    expect(held.keepFrom("cp.events", 0)).toBe(10n);
    expect(held.keepFrom("cp.events", 1)).toBe(5n);
    // S1's newer reading replaces its first: the earliest of the partition is S2's now.
    held.hold(reading("S1", 2, 20));
    expect(held.keepFrom("cp.events", 0)).toBe(11n);
    held.written("S2", 1);
    expect(held.keepFrom("cp.events", 0)).toBe(20n);
    held.written("S1", 2);
    expect(held.keepFrom("cp.events", 0)).toBeUndefined();
    expect(held.keepFrom("cp.events", 1)).toBe(5n);
  });

  test("readings held out of offset order still give the earliest", () => {
    const held = new HeldReadings(5000);
    held.hold(reading("S1", 1, 30));
    held.hold(reading("S2", 1, 12));
    held.hold(reading("S3", 1, 40));
    expect(held.keepFrom("cp.events", 0)).toBe(12n);
    held.written("S2", 1);
    expect(held.keepFrom("cp.events", 0)).toBe(30n);
  });

  test("a reading written goes, unless a newer one came meanwhile", () => {
    const held = new HeldReadings(5000);
    held.hold(reading("S1", 5, 10));
    held.hold(reading("S1", 6, 11));
    held.written("S1", 5); // the write that took 5 finished after 6 came: 6 still waits
    expect(held.get("S1")?.seq).toBe(6);
    expect(held.keepFrom("cp.events", 0)).toBe(11n);
    held.written("S1", Number.MAX_SAFE_INTEGER); // the session closed
    expect(held.get("S1")).toBeUndefined();
    expect(held.size).toBe(0);
  });

  test("due: the readings whose rows have waited the interval, or all", () => {
    const held = new HeldReadings(5000);
    held.hold(reading("S1", 1, 1), 0);
    held.hold(reading("S2", 1, 2), 3000);
    held.hold(reading("S1", 2, 3), 4000); // newer, but S1's row has waited since 0
    expect(held.due(5000).map((h) => h.sessionId)).toEqual(["S1"]);
    expect(
      held
        .due(8000)
        .map((h) => h.sessionId)
        .sort(),
    ).toEqual(["S1", "S2"]);
    expect(held.due(1000, true)).toHaveLength(2);
  });
});
