import { describe, expect, test } from "bun:test";
import { PartitionScheduler, type Positioned, type SchedulerOptions } from "../../src/bus/kafka/partition-scheduler.ts";

const message = (topic: string, partition: number, offset: number): Positioned => ({ topic, partition, offset: BigInt(offset) });
const owned = () => true;
const none = new Set<string>();

function scheduler(options: Partial<SchedulerOptions> = {}, ...messages: Positioned[]) {
  const s = new PartitionScheduler<Positioned>({ maxBatch: 3, concurrency: 1, ...options });
  for (const m of messages) s.add(m);
  return s;
}

const offsets = (batch: { messages: Positioned[] }) => batch.messages.map((m) => Number(m.offset));

describe("the partition scheduler", () => {
  test("hands out one partition's messages in offset order, at most a batch at a time", () => {
    const s = scheduler({}, ...[0, 1, 2, 3, 4].map((o) => message("t", 0, o)));
    const first = s.next(none, owned, 0).batches;
    expect(first.map((b) => [b.key, b.slot, offsets(b)])).toEqual([["t:0", "t:0", [0, 1, 2]]]);
    expect(s.next(new Set(["t:0"]), owned, 0).batches).toEqual([]); // its batch is still in hand
    s.markHandled("t:0", 2n);
    expect(s.next(none, owned, 0).batches.map(offsets)).toEqual([[3, 4]]);
    expect(s.queued).toBe(0);
  });

  test("keeps at most `concurrency` batches in hand, one per partition", () => {
    const s = scheduler({ concurrency: 2 }, message("t", 0, 0), message("t", 1, 0), message("t", 2, 0));
    expect(s.next(none, owned, 0).batches.map((b) => b.key)).toEqual(["t:0", "t:1"]);
    expect(s.next(new Set(["t:0", "t:1"]), owned, 0).batches).toEqual([]);
    expect(s.next(new Set(["t:1"]), owned, 0).batches.map((b) => b.key)).toEqual(["t:2"]);
  });

  test("gives co-partitioned topics one slot per partition number, so one key's messages stay in order", () => {
    const s = scheduler({ concurrency: 4, copartitioned: true }, message("a", 0, 0), message("b", 0, 0), message("b", 1, 0));
    const started = s.next(none, owned, 0).batches;
    expect(started.map((b) => [b.key, b.slot])).toEqual([
      ["a:0", "#0"],
      ["b:1", "#1"],
    ]);
    expect(s.next(new Set(["#1"]), owned, 0).batches.map((b) => b.key)).toEqual(["b:0"]);
  });

  test("skips messages fetched again below what was handled, and repeats within a batch", () => {
    const s = scheduler({ maxBatch: 10 }, ...[0, 1, 2].map((o) => message("t", 0, o)));
    s.markHandled("t:0", 2n);
    s.next(none, owned, 0); // all three were handled already
    for (const o of [2, 3, 3, 4]) s.add(message("t", 0, o));
    expect(s.next(none, owned, 0).batches.map(offsets)).toEqual([[3, 4]]);
  });

  test("drops the messages of a partition this member no longer owns", () => {
    const s = scheduler({ concurrency: 2 }, message("t", 0, 0), message("t", 1, 0));
    const started = s.next(none, (_topic, partition) => partition === 1, 0).batches;
    expect(started.map((b) => b.key)).toEqual(["t:1"]);
    expect(s.queued).toBe(0);
  });

  test("with a batch interval, holds a partition back until it is due or a full batch waits", () => {
    const s = scheduler({ batchIntervalMs: 100 }, message("t", 0, 0));
    expect(s.next(none, owned, 1_000).batches.map(offsets)).toEqual([[0]]);
    s.markHandled("t:0", 0n);
    s.add(message("t", 0, 1));
    const early = s.next(none, owned, 1_040);
    expect(early.batches).toEqual([]);
    expect(early.heldBackMs).toBe(60);
    for (const o of [2, 3]) s.add(message("t", 0, o));
    expect(s.next(none, owned, 1_050).batches.map(offsets)).toEqual([[1, 2, 3]]); // full: no wait
    s.markHandled("t:0", 3n);
    s.add(message("t", 0, 4));
    expect(s.next(none, owned, 1_100).batches).toEqual([]);
    expect(s.next(none, owned, 1_150).batches.map(offsets)).toEqual([[4]]);
  });

  test("bounds what waits, and forgets a failed partition's messages or all of them", () => {
    const s = scheduler({ maxBatch: 2, concurrency: 1 });
    for (const o of [0, 1, 2]) s.add(message("t", 0, o));
    expect(s.hasRoom).toBe(true);
    s.add(message("t", 1, 0));
    expect(s.hasRoom).toBe(false); // 2 × (1 + 1)
    s.drop("t:0");
    expect(s.queued).toBe(1);
    s.clear();
    expect(s.queued).toBe(0);
    expect(s.next(none, owned, 0).batches).toEqual([]);
  });

  test("reads past its bound while one partition's run fills it, so the other partitions' messages reach their slots", () => {
    // A fetch under a backlog brings each partition's messages in one run: the first partition's
    // fill the bound (2 × (3 + 1)) alone, and only one slot of three could work.
    const s = scheduler({ maxBatch: 2, concurrency: 3 });
    for (let o = 0; o < 8; o++) s.add(message("t", 0, o));
    expect(s.hasRoom).toBe(true);
    for (let o = 0; o < 8; o++) s.add(message("t", 1, o));
    for (let o = 0; o < 8; o++) s.add(message("t", 2, o));
    expect(s.hasRoom).toBe(true); // three partitions waiting for three slots: one more may come
    s.add(message("t", 3, 0));
    expect(s.hasRoom).toBe(false);
    expect(s.next(none, owned, 0).batches.map((b) => b.key)).toEqual(["t:0", "t:1", "t:2"]);
    // Never more than four times the bound, however few partitions wait.
    const one = scheduler({ maxBatch: 2, concurrency: 3 });
    for (let o = 0; o < 100; o++) if (one.hasRoom) one.add(message("t", 0, o));
    expect(one.queued).toBe(32);
  });
});
