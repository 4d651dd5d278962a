import { describe, expect, test } from "bun:test";
import { assignCopartitioned, decodeOwned, encodeOwned, spreadNumbers } from "../../src/bus/kafka/copartition-assignor.ts";

const TOPICS = ["t.driver.requests", "t.cp.events", "t.central.control"];
const counts = (n: number) => new Map(TOPICS.map((t) => [t, n]));

/** member id -> topic -> partitions */
function table(result: ReturnType<typeof assignCopartitioned>): Map<string, Map<string, number[]>> {
  return new Map(result.map((r) => [r.memberId, new Map([...r.assignments].map(([t, a]) => [t, [...a.partitions].sort((x, y) => x - y)]))]));
}

function member(memberId: string, owned: number[] = []) {
  return { memberId, topics: TOPICS, owned };
}

describe("the co-partitioning assignor", () => {
  test("gives partition N of every topic to one member", () => {
    for (const [members, partitions] of [
      [2, 3],
      [3, 3],
      [2, 12],
      [3, 12],
      [5, 12],
      [4, 3],
    ] as const) {
      const result = table(
        assignCopartitioned(
          Array.from({ length: members }, (_, i) => member(`m${i}`)),
          counts(partitions),
        ),
      );
      const ownerOf = new Map<number, string>();
      for (const [memberId, byTopic] of result) {
        const numbers = byTopic.get(TOPICS[0]!) ?? [];
        for (const t of TOPICS) expect(byTopic.get(t) ?? []).toEqual(numbers);
        for (const n of numbers) {
          expect(ownerOf.has(n)).toBe(false);
          ownerOf.set(n, memberId);
        }
      }
      expect([...ownerOf.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: partitions }, (_, i) => i));
      const sizes = [...result.values()].map((b) => (b.get(TOPICS[0]!) ?? []).length);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
  });

  test("keeps what members held when the balance allows, and moves only what it must", () => {
    // Three members held 4 each of 12; one leaves: the two left keep theirs and split its 4.
    const before = spreadNumbers(12, [member("a"), member("b"), member("c")]);
    const after = spreadNumbers(12, [member("a", before.get("a")), member("c", before.get("c"))]);
    for (const n of before.get("a")!) expect(after.get("a")).toContain(n);
    for (const n of before.get("c")!) expect(after.get("c")).toContain(n);
    expect(after.get("a")!.length).toBe(6);
    expect(after.get("c")!.length).toBe(6);
    // It comes back (a new member, holding nothing): it gets 4, taken 2 from each.
    const again = spreadNumbers(12, [member("a", after.get("a")), member("c", after.get("c")), member("d")]);
    expect(again.get("d")!.length).toBe(4);
    expect(after.get("a")!.filter((n) => again.get("a")!.includes(n)).length).toBe(4);
    expect(after.get("c")!.filter((n) => again.get("c")!.includes(n)).length).toBe(4);
  });

  test("resolves two members claiming one number (a stale claim) without giving it twice", () => {
    const result = spreadNumbers(3, [member("a", [0, 1]), member("b", [1, 2])]);
    const all = [...result.values()].flat().sort();
    expect(all).toEqual([0, 1, 2]);
  });

  test("answers the same for the same group, whatever order members come in", () => {
    const one = spreadNumbers(7, [member("x"), member("y"), member("z")]);
    const two = spreadNumbers(7, [member("z"), member("x"), member("y")]);
    expect([...two].sort()).toEqual([...one].sort());
  });

  test("gives a topic that only some members read to those that read it", () => {
    const result = table(
      assignCopartitioned(
        [
          { memberId: "new", topics: ["a", "b"], owned: [] },
          { memberId: "old", topics: ["a"], owned: [] },
        ],
        new Map([
          ["a", 4],
          ["b", 4],
        ]),
      ),
    );
    expect(result.get("new")!.get("b")).toEqual([0, 1, 2, 3]);
    expect(result.get("old")!.has("b")).toBe(false);
  });

  test("reads back what a member says it owns, and ignores user data that is not its", () => {
    expect(decodeOwned(encodeOwned([2, 0, 2]))).toEqual([0, 2]);
    expect(decodeOwned(Buffer.from([0, 0, 0, 1]))).toEqual([]);
    expect(decodeOwned(undefined)).toEqual([]);
    expect(decodeOwned(Buffer.from('{"owned":[1,-1,"x",2.5]}'))).toEqual([1]);
  });
});
