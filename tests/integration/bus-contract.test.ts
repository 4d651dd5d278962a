/**
 * One contract, two adapters: the in-process bus and the Kafka bus (against the real broker)
 * must behave the same where the system relies on it — per-key order, commit after the handler,
 * redelivery when it throws, a group splitting partitions, idempotent topic creation.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { type Bus, BusError, type BusMessage, type Subscription, textDecoder } from "../../src/bus/bus.ts";
import { KafkaBus } from "../../src/bus/kafka.ts";
import { MemoryBus } from "../../src/bus/memory.ts";
import { kafkaBrokers, testTopicPrefix } from "../support/services.ts";
import { waitFor } from "../support/wait.ts";

setDefaultTimeout(45_000); // waits below give up after 20-30 s with a message of their own

interface Adapter {
  name: string;
  open(): Bus;
}

const adapters: Adapter[] = [
  { name: "memory bus", open: () => new MemoryBus() },
  {
    name: "Kafka bus",
    open: () => new KafkaBus({ brokers: kafkaBrokers(), clientId: "evnet-contract-test", sessionTimeoutMs: 6_000, heartbeatIntervalMs: 500 }),
  },
];

/** What a subscriber saw: every batch, in delivery order. */
class Received {
  batches: BusMessage[][] = [];
  get messages(): BusMessage[] {
    return this.batches.flat();
  }
  values(key?: string): string[] {
    return this.messages.filter((m) => key === undefined || m.key === key).map((m) => textDecoder.decode(m.value));
  }
  /** For each key, the values in the order they were first seen (redeliveries collapse). */
  firstSeenByKey(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const m of this.messages) {
      const list = out.get(m.key) ?? [];
      const value = textDecoder.decode(m.value);
      if (!list.includes(value)) list.push(value);
      out.set(m.key, list);
    }
    return out;
  }
  handler = async (batch: BusMessage[]) => {
    this.batches.push(batch);
  };
}

const numbered = (key: string, from: number, count: number) => Array.from({ length: count }, (_, i) => ({ key, value: String(from + i) }));
const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => String(from + i));

for (const adapter of adapters) {
  describe(`the ${adapter.name}`, () => {
    let bus: Bus;
    const prefix = testTopicPrefix();
    let n = 0;
    /** A topic of its own for each test, created with 3 partitions. */
    const freshTopic = async () => {
      const topic = `${prefix}.contract-${++n}`;
      await bus.ensureTopics([topic]);
      return topic;
    };
    const open: Subscription[] = [];
    const subscribe = async (topic: string, groupId: string, handler: (b: BusMessage[]) => Promise<void>) => {
      const sub = await bus.subscribe({ topics: [topic], groupId, from: "earliest" }, handler);
      open.push(sub);
      return sub;
    };

    beforeAll(() => {
      bus = adapter.open();
    });
    afterAll(async () => {
      await Promise.allSettled(open.map((s) => s.close()));
      await bus.close();
    });

    test("delivers the messages of one key in the order they were published, in single-partition batches", async () => {
      const topic = await freshTopic();
      for (let round = 0; round < 4; round++)
        await bus.publish(topic, [...numbered("CP_A", round * 5, 5), ...numbered("CP_B", round * 5, 5), ...numbered("CP_C", round * 5, 5)]);
      const seen = new Received();
      await subscribe(topic, `${prefix}-order`, seen.handler);
      await waitFor(() => seen.messages.length >= 60, "60 messages");
      for (const key of ["CP_A", "CP_B", "CP_C"]) expect(seen.values(key)).toEqual(range(0, 20));
      for (const batch of seen.batches) {
        expect(new Set(batch.map((m) => m.partition)).size).toBe(1);
        const offsets = batch.map((m) => m.offset!);
        expect(offsets).toEqual([...offsets].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
      }
    });

    test("publishing to several topics at once keeps each topic's messages, per key, in the order given", async () => {
      const [first, second] = [await freshTopic(), await freshTopic()];
      // Interleaved as Central's outbox interleaves commands and drivers' updates.
      const messages = Array.from({ length: 60 }, (_, i) => ({ topic: i % 3 === 0 ? first : second, key: `CP_${"ABC"[i % 3]}`, value: String(i) }));
      await bus.publishAll(messages);
      const seen = new Received();
      const sub = await bus.subscribe({ topics: [first, second], groupId: `${prefix}-all`, from: "earliest" }, seen.handler);
      open.push(sub);
      await waitFor(() => seen.messages.length >= 60, "60 messages");
      for (const topic of [first, second])
        for (const key of ["CP_A", "CP_B", "CP_C"])
          expect(seen.messages.filter((m) => m.topic === topic && m.key === key).map((m) => textDecoder.decode(m.value))).toEqual(
            messages.filter((m) => m.topic === topic && m.key === key).map((m) => m.value),
          );
      expect(seen.messages.filter((m) => m.topic === first)).toHaveLength(20);
      expect(seen.messages.filter((m) => m.topic === second)).toHaveLength(40);
    });

    test("carries keys, bytes and headers unchanged", async () => {
      const topic = await freshTopic();
      const bytes = new Uint8Array([0, 1, 2, 250, 255]);
      await bus.publish(topic, [{ key: "CP_Ñ", value: bytes, headers: { kind: "telemetry", v: "1" } }]);
      const seen = new Received();
      await subscribe(topic, `${prefix}-bytes`, seen.handler);
      await waitFor(() => seen.messages.length >= 1, "the message");
      const [m] = seen.messages;
      expect(m!.key).toBe("CP_Ñ");
      expect([...m!.value]).toEqual([...bytes]);
      expect(m!.headers).toEqual({ kind: "telemetry", v: "1" });
      expect(m!.topic).toBe(topic);
    });

    test("a member that leaves and rejoins its group resumes after the last committed message", async () => {
      const topic = await freshTopic();
      const group = `${prefix}-resume`;
      await bus.publish(topic, numbered("CP_R", 0, 10));
      const first = new Received();
      const sub = await subscribe(topic, group, first.handler);
      await waitFor(() => first.messages.length >= 10, "the first 10 messages");
      await sub.close();

      await bus.publish(topic, numbered("CP_R", 10, 10));
      const second = new Received();
      await subscribe(topic, group, second.handler);
      await waitFor(() => second.messages.length >= 10, "the next 10 messages");
      expect(first.values("CP_R")).toEqual(range(0, 10));
      expect(second.values("CP_R")).toEqual(range(10, 10));
    });

    test("a handler that throws gets the same messages again, and nothing is committed until it succeeds", async () => {
      const topic = await freshTopic();
      const group = `${prefix}-retry`;
      await bus.publish(topic, numbered("CP_X", 0, 5));
      const attempts: string[][] = [];
      const sub = await subscribe(topic, group, async (batch) => {
        attempts.push(batch.map((m) => textDecoder.decode(m.value)));
        if (attempts.length <= 2) throw new Error("database is down (simulated)");
      });
      await waitFor(() => attempts.flat().includes("4") && attempts.length >= 3, "a successful delivery after two failures");
      expect(attempts[0]![0]).toBe("0");
      expect(attempts[1]![0]).toBe("0");
      expect(attempts[2]![0]).toBe("0");
      await sub.close();

      // Committed after the success: a new member of the group starts after message 4.
      await bus.publish(topic, numbered("CP_X", 5, 1));
      const after = new Received();
      await subscribe(topic, group, after.handler);
      await waitFor(() => after.messages.length >= 1, "the message published after the success");
      expect(after.values("CP_X")).toEqual(["5"]);
    });

    test("a subscriber that asks for several partitions at once gets them side by side, each still one batch at a time and in order", async () => {
      const topic = await freshTopic();
      const keys = ["CP_A", "CP_B", "CP_C", "CP_D", "CP_E", "CP_F"];
      for (let round = 0; round < 3; round++)
        await bus.publish(
          topic,
          keys.flatMap((k) => numbered(k, round * 10, 10)),
        );
      const seen = new Received();
      const inHand = new Set<number>();
      let samePartitionTwice = false;
      let sideBySide = false;
      let failedOnce = false;
      const sub = await bus.subscribe({ topics: [topic], groupId: `${prefix}-concurrent`, from: "earliest", concurrency: 3, maxBatch: 7 }, async (batch) => {
        const partition = batch[0]!.partition!;
        if (inHand.has(partition)) samePartitionTwice = true;
        inHand.add(partition);
        try {
          // Wait (a little) for another partition's batch to come in beside this one.
          await waitFor(() => sideBySide || inHand.size > 1, "another partition", { timeoutMs: 500, everyMs: 5 }).then(
            () => (sideBySide = true),
            () => {},
          );
          if (!failedOnce && batch.some((m) => m.key === "CP_C")) {
            failedOnce = true;
            throw new Error("database is down (simulated)");
          }
          await seen.handler(batch);
        } finally {
          inHand.delete(partition);
        }
      });
      open.push(sub);
      await waitFor(() => keys.every((k) => seen.firstSeenByKey().get(k)?.length === 30), "every message of every key");
      for (const k of keys) expect(seen.firstSeenByKey().get(k)).toEqual(range(0, 30));
      for (const batch of seen.batches) expect(batch.length).toBeLessThanOrEqual(7);
      expect(samePartitionTwice).toBe(false);
      expect(sideBySide).toBe(true);
      expect(failedOnce).toBe(true);
    });

    test("a co-partitioned subscriber never handles one partition number of two topics at once", async () => {
      const [requests, events] = [await freshTopic(), await freshTopic()];
      const keys = ["CP_A", "CP_B", "CP_C", "CP_D"];
      for (let round = 0; round < 3; round++) {
        await bus.publish(
          requests,
          keys.flatMap((k) => numbered(k, round * 5, 5)),
        );
        await bus.publish(
          events,
          keys.flatMap((k) => numbered(k, round * 5, 5)),
        );
      }
      const inHand = new Set<number>();
      let clash = false;
      let delivered = 0;
      const sub = await bus.subscribe(
        { topics: [requests, events], groupId: `${prefix}-copartitioned`, from: "earliest", concurrency: 4, maxBatch: 20, copartitioned: true },
        async (batch) => {
          const partition = batch[0]!.partition!;
          if (inHand.has(partition)) clash = true;
          inHand.add(partition);
          await Bun.sleep(20);
          inHand.delete(partition);
          delivered += batch.length;
        },
      );
      open.push(sub);
      await waitFor(() => delivered >= 120, "all 120 messages");
      expect(clash).toBe(false);
    });

    test("two members of one group split the partitions and together see every message in per-key order", async () => {
      const topic = await freshTopic();
      const group = `${prefix}-split`;
      const a = new Received();
      const b = new Received();
      await subscribe(topic, group, a.handler);
      await subscribe(topic, group, b.handler);
      const keys = Array.from({ length: 12 }, (_, i) => `CP_${String(i).padStart(3, "0")}`);
      // Publish in rounds until both members have been given work (a Kafka group settles its
      // assignment asynchronously after the second member joins).
      let round = 0;
      await waitFor(
        async () => {
          await bus.publish(
            topic,
            keys.map((key) => ({ key, value: String(round) })),
          );
          round++;
          return a.messages.length > 0 && b.messages.length > 0;
        },
        "both members to receive messages",
        { everyMs: 200 },
      );
      const rounds = round;
      await waitFor(() => {
        const all = new Received();
        all.batches = [...a.batches, ...b.batches];
        return keys.every((k) => (all.firstSeenByKey().get(k) ?? []).length === rounds);
      }, "every message to be seen by one member or the other");
      for (const received of [a, b])
        for (const [key, values] of received.firstSeenByKey()) {
          const start = Number(values[0]);
          expect({ key, values }).toEqual({ key, values: range(start, values.length) });
        }
    });

    test("when a member leaves its group, the one that stays takes over its partitions", async () => {
      const topic = await freshTopic();
      const group = `${prefix}-takeover`;
      const stays = new Received();
      const leaves = new Received();
      await subscribe(topic, group, stays.handler);
      const leaving = await subscribe(topic, group, leaves.handler);
      await waitFor(
        async () => {
          await bus.publish(topic, numbered("CP_T0", 0, 1).concat(numbered("CP_T1", 0, 1), numbered("CP_T2", 0, 1)));
          return stays.messages.length > 0 && leaves.messages.length > 0;
        },
        "both members to receive messages",
        { everyMs: 200 },
      );
      await leaving.close();
      const keys = Array.from({ length: 12 }, (_, i) => `CP_L${i}`);
      await bus.publish(
        topic,
        keys.map((key) => ({ key, value: "after" })),
      );
      await waitFor(() => keys.every((k) => stays.values(k).includes("after")), "the remaining member to get every key");
      expect(new Set(stays.messages.filter((m) => keys.includes(m.key)).map((m) => m.partition)).size).toBeGreaterThan(1);
    });

    test("a new group that starts from the latest offset sees only what is published after it subscribed", async () => {
      const topic = await freshTopic();
      await bus.publish(topic, numbered("CP_L", 0, 3));
      const seen = new Received();
      await bus.subscribe({ topics: [topic], groupId: `${prefix}-latest`, from: "latest" }, seen.handler).then((s) => open.push(s));
      await bus.publish(topic, numbered("CP_L", 3, 2));
      await waitFor(() => seen.messages.length >= 2, "the 2 new messages");
      expect(seen.values("CP_L")).toEqual(["3", "4"]);
    });

    test("ensureTopics creates a topic of 3 partitions once and accepts being called again", async () => {
      const topic = `${prefix}.ensure`;
      await bus.ensureTopics([topic]);
      await bus.ensureTopics([topic]);
      const keys = Array.from({ length: 60 }, (_, i) => `CP_E${i}`);
      await bus.publish(
        topic,
        keys.map((key) => ({ key, value: "x" })),
      );
      const seen = new Received();
      await subscribe(topic, `${prefix}-ensure`, seen.handler);
      await waitFor(() => seen.messages.length >= 60, "60 messages");
      expect([...new Set(seen.messages.map((m) => m.partition))].sort()).toEqual([0, 1, 2]);
    });

    test("publishing on a closed bus fails with a BusError, to one topic or to several", async () => {
      const other = adapter.open();
      const topic = `${prefix}.closed`;
      await other.ensureTopics([topic]);
      await other.close();
      for (const publishing of [other.publish(topic, [{ key: "CP_Z", value: "x" }]), other.publishAll([{ topic, key: "CP_Z", value: "x" }])]) {
        const error = await publishing.catch((e: unknown) => e);
        expect(error).toBeInstanceOf(BusError);
        expect((error as BusError).code).toBe("closed");
      }
    });
  });
}
