import { describe, expect, test } from "bun:test";
import { holdsMoreThanReadings, nextGroup } from "../../src/roles/central/run-groups.ts";
import type { Run } from "../../src/roles/central/runs.ts";

const batch = (name: string, heavy: boolean, size = 10) => ({ name, heavy, size });
const names = (bs: { name: string }[]) => bs.map((b) => b.name);

describe("the next group of batches waiting for a transaction", () => {
  test("batches of readings alone go together, past one that holds more, which keeps its turn for the next", () => {
    const waiting = [batch("a", false), batch("B", true), batch("c", false), batch("D", true), batch("e", false)];
    const first = nextGroup(waiting, 6, 2000);
    expect(names(first.taken)).toEqual(["a", "c", "e"]);
    expect(names(first.left)).toEqual(["B", "D"]);
    const second = nextGroup(first.left, 6, 2000);
    expect(names(second.taken)).toEqual(["B", "D"]);
    expect(second.left).toEqual([]);
  });

  test("the oldest leads whatever it is, and the bounds hold: batches, then messages (the oldest goes whatever its size)", () => {
    const waiting = [batch("A", true, 5000), batch("b", false), batch("C", true), batch("D", true), batch("E", true)];
    expect(names(nextGroup(waiting, 6, 2000).taken)).toEqual(["A"]); // already over the messages' bound alone
    const alike = [batch("a", false, 900), batch("b", false, 900), batch("c", false, 900), batch("d", false, 100)];
    const g = nextGroup(alike, 6, 2000);
    expect(names(g.taken)).toEqual(["a", "b", "d"]); // c would pass 2000; d still fits
    expect(names(g.left)).toEqual(["c"]);
    const many = Array.from({ length: 8 }, (_, i) => batch(`r${i}`, false));
    expect(nextGroup(many, 6, 2000).taken).toHaveLength(6);
    expect(nextGroup([], 6, 2000)).toEqual({ taken: [], left: [] });
  });
});

describe("which batches hold more than readings", () => {
  const cp = (type: string) => ({ kind: "cp", event: { type } });
  const run = (items: unknown[]) => ({ messages: [], items }) as unknown as Run;
  test("readings and heartbeats alone do not; a session's event, a driver's request or a control message does", () => {
    expect(holdsMoreThanReadings(run([cp("telemetry"), cp("heartbeat"), cp("telemetry")]))).toBe(false);
    expect(holdsMoreThanReadings(run([]))).toBe(false);
    expect(holdsMoreThanReadings(run([cp("telemetry"), cp("supply_ended")]))).toBe(true);
    expect(holdsMoreThanReadings(run([cp("supply_started")]))).toBe(true);
    expect(holdsMoreThanReadings(run([{ kind: "driver" }]))).toBe(true);
    expect(holdsMoreThanReadings(run([{ kind: "control" }]))).toBe(true);
    expect(holdsMoreThanReadings(run([cp("telemetry"), { kind: "bad_cp_payload" }]))).toBe(true);
  });
});
