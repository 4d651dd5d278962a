/**
 * What only the Kafka adapter has to face: a broker that is not there, a group member that dies
 * without saying goodbye, and a broker that restarts under a running subscription.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { tracingChannel } from "node:diagnostics_channel";
import { BusError, type BusMessage, textDecoder } from "../../src/bus/bus.ts";
import { KafkaBus } from "../../src/bus/kafka.ts";
import { allTopics, LIVE_RETENTION_MS, topicsFor } from "../../src/bus/topics.ts";
import { createLogger } from "../../src/lib/log.ts";
import { OwnBroker } from "../support/own-broker.ts";
import { topicSetting } from "../support/raw-kafka.ts";
import { kafkaBrokers, testTopicPrefix } from "../support/services.ts";
import { waitFor } from "../support/wait.ts";

setDefaultTimeout(45_000); // waits below give up after 20-30 s with a message of their own

const prefix = testTopicPrefix();

/** A port nothing listens on: bind one, then let it go. */
function closedPort(): number {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}

describe("the Kafka bus when the broker cannot be reached", () => {
  const address = `127.0.0.1:${closedPort()}`;
  const bus = new KafkaBus({ brokers: [address], clientId: "evnet-test-unreachable" });
  afterAll(() => bus.close());

  test("publish fails with a BusError that names the broker", async () => {
    const error = await bus.publish(`${prefix}.nowhere`, [{ key: "CP_1", value: "x" }]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BusError);
    expect((error as BusError).code).toBe("unavailable");
    expect((error as BusError).message).toContain(address);
  }, 15_000);

  test("subscribe and ensureTopics fail with a BusError too", async () => {
    const subscribing = await bus.subscribe({ topics: [`${prefix}.nowhere`], groupId: `${prefix}-nowhere` }, async () => {}).catch((e: unknown) => e);
    expect(subscribing).toBeInstanceOf(BusError);
    expect((subscribing as BusError).message).toContain(address);
    const creating = await bus.ensureTopics([`${prefix}.nowhere`]).catch((e: unknown) => e);
    expect(creating).toBeInstanceOf(BusError);
  }, 30_000);
});

/** Reads a child process's stdout line by line. */
function lines(proc: Bun.Subprocess<"ignore", "pipe", "inherit">): string[] {
  const out: string[] = [];
  void (async () => {
    let pending = "";
    const reader = proc.stdout.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      pending += textDecoder.decode(value);
      const parts = pending.split("\n");
      pending = parts.pop() ?? "";
      out.push(...parts);
    }
  })();
  return out;
}

describe("a Kafka subscription with a batch interval", () => {
  test("holds a partition's next batch back until the interval has passed, then delivers what piled up as one", async () => {
    const bus = new KafkaBus({ brokers: kafkaBrokers(), clientId: "evnet-test-interval", partitions: 1 });
    const topic = `${prefix}.interval`;
    const batches: { at: number; values: string[] }[] = [];
    try {
      await bus.ensureTopics([topic]);
      const subscription = await bus.subscribe({ topics: [topic], groupId: `${prefix}-interval`, from: "latest", batchIntervalMs: 1_000 }, async (batch) => {
        batches.push({ at: performance.now(), values: batch.map((m) => textDecoder.decode(m.value)) });
      });
      await bus.publish(topic, [{ key: "CP_1", value: "first" }]);
      await waitFor(() => batches.length === 1, "the first batch");
      for (const value of ["a", "b", "c", "d"]) await bus.publish(topic, [{ key: "CP_1", value }]);
      await waitFor(() => batches.flatMap((b) => b.values).length === 5, "all five messages");
      await subscription.close();
      // Published one by one while the partition was held back: they came together, and not
      // before the interval had passed since the first batch started.
      expect(batches.map((b) => b.values)).toEqual([["first"], ["a", "b", "c", "d"]]);
      expect(batches[1]!.at - batches[0]!.at).toBeGreaterThanOrEqual(990);
    } finally {
      await bus.close();
    }
  });
});

/** 120 messages in 60 small publishes over 7 keys: many small batches on every partition. */
async function publishSmallBatches(bus: KafkaBus, topic: string): Promise<void> {
  for (let i = 0; i < 60; i++)
    await bus.publish(topic, [
      { key: `CP_${i % 7}`, value: String(i) },
      { key: `CP_${(i + 3) % 7}`, value: `${i}b` },
    ]);
}

describe("a Kafka subscription's offset commits", () => {
  test("reach the broker for every partition it handled while it keeps running, however small its batches", async () => {
    const bus = new KafkaBus({ brokers: kafkaBrokers(), clientId: "evnet-test-commits", partitions: 3 });
    const topic = `${prefix}.commits`;
    const group = `${prefix}-commits`;
    let handled = 0;
    try {
      await bus.ensureTopics([topic]);
      const subscription = await bus.subscribe({ topics: [topic], groupId: group, from: "latest", concurrency: 3 }, async (batch) => {
        handled += batch.length;
      });
      await publishSmallBatches(bus, topic);
      await waitFor(() => handled === 120, "all 120 messages handled");
      await waitFor(async () => (await bus.lag(group, [topic])).total === 0, "the group's lag down to 0 with the subscription still open");
      const lag = await bus.lag(group, [topic]);
      expect(lag.partitions.filter((p) => p.end > 0).length).toBeGreaterThan(1);
      expect(lag.partitions.every((p) => p.committed === p.end)).toBe(true);
      await subscription.close();
    } finally {
      await bus.close();
    }
  });
});

/**
 * Counts the requests of one Kafka API (0: Produce, 8: OffsetCommit) that this process sends,
 * on the client's tracing channel, between `start()` and `stop()`.
 */
function requestCounter(apiKey: number) {
  const api = tracingChannel("plt:kafka:connections:api");
  const counter = {
    count: 0,
    start: () => void api.subscribe(seen),
    stop: () => void api.unsubscribe(seen),
  };
  const seen = { start: (ctx: unknown) => void ((ctx as { apiKey?: number }).apiKey === apiKey && counter.count++) };
  return counter;
}

describe("publishing to several topics at once on Kafka", () => {
  test("sends them in one produce request", async () => {
    const bus = new KafkaBus({ brokers: kafkaBrokers(), clientId: "evnet-test-publish-all", partitions: 3 });
    const topics = [`${prefix}.all-commands`, `${prefix}.all-updates`];
    const produces = requestCounter(0);
    try {
      await bus.ensureTopics(topics);
      const messages = Array.from({ length: 30 }, (_, i) => ({ topic: topics[i % 2]!, key: `CP_${i % 7}`, value: `m${i}` }));
      // The producer connected and every partition written to below taking writes: a first write
      // to a partition just created can meet a leader not yet elected, and the client sends it again.
      for (const m of messages) await bus.publish(m.topic, [{ key: m.key, value: "warm" }]);
      produces.start();
      await bus.publishAll(messages);
      produces.stop();
      expect(produces.count).toBe(1);
      // The same messages a publish each (what the outbox's alternating topics came to before): a request each.
      produces.count = 0;
      produces.start();
      for (const m of messages) await bus.publish(m.topic, [m]);
      produces.stop();
      expect(produces.count).toBe(30);
    } finally {
      produces.stop();
      await bus.close();
    }
  });
});

describe("creating the network's topics on Kafka", () => {
  test("gives Central's live figures a short retention and the others the broker's own", async () => {
    const bus = new KafkaBus({ brokers: kafkaBrokers(), clientId: "evnet-test-topic-settings", partitions: 2 });
    const topics = topicsFor(`${prefix}-settings`);
    try {
      await bus.ensureTopics(allTopics(topics));
      await bus.ensureTopics(allTopics(topics)); // again: nothing to create, no error
      expect(await topicSetting(kafkaBrokers(), topics.centralLive, "retention.ms")).toBe(String(LIVE_RETENTION_MS));
      expect(await topicSetting(kafkaBrokers(), topics.cpEvents, "retention.ms")).toBe(String(7 * 24 * 3600 * 1000));
    } finally {
      await bus.close();
    }
  });
});

describe("a Kafka subscription with a commit interval", () => {
  test("sends the offsets of many batches in few commits, the last within the interval, and at once when it closes", async () => {
    const bus = new KafkaBus({ brokers: kafkaBrokers(), clientId: "evnet-test-commit-interval", partitions: 3 });
    const topic = `${prefix}.commit-interval`;
    const group = `${prefix}-commit-interval`;
    // Every OffsetCommit request this process sends while the test runs.
    const commits = requestCounter(8);
    let handled = 0;
    let batches = 0;
    try {
      await bus.ensureTopics([topic]);
      const subscription = await bus.subscribe({ topics: [topic], groupId: group, from: "latest", concurrency: 3, commitIntervalMs: 1_000 }, async (batch) => {
        handled += batch.length;
        batches++;
      });
      commits.start();
      const began = performance.now();
      await publishSmallBatches(bus, topic);
      await waitFor(() => handled === 120, "all 120 messages handled");
      await waitFor(async () => (await bus.lag(group, [topic])).total === 0, "the group's lag down to 0 with the subscription still open");
      const seconds = (performance.now() - began) / 1000;
      // One commit per second at most (and one at once at the start), however many batches.
      expect(batches).toBeGreaterThan(20);
      expect(commits.count).toBeLessThanOrEqual(Math.ceil(seconds) + 1);
      // A message handled just before closing: its offset goes at once, not after the interval.
      await bus.publish(topic, [{ key: "CP_1", value: "last" }]);
      await waitFor(() => handled === 121, "the last message handled");
      const closing = performance.now();
      await subscription.close();
      expect(performance.now() - closing).toBeLessThan(900);
      expect((await bus.lag(group, [topic])).total).toBe(0);
    } finally {
      commits.stop();
      await bus.close();
    }
  });
});

describe("a Kafka consumer group", () => {
  test("gives the partitions of a member that died without leaving to the member that is left", async () => {
    const topic = `${prefix}.takeover`;
    const group = `${prefix}-takeover`;
    const bus = new KafkaBus({ brokers: kafkaBrokers(), clientId: "evnet-test-survivor", sessionTimeoutMs: 3_000, heartbeatIntervalMs: 500 });
    const child = Bun.spawn([process.execPath, "tests/support/bus-member.ts", kafkaBrokers().join(","), topic, group], {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "inherit",
    });
    try {
      await bus.ensureTopics([topic]);
      const childLines = lines(child);
      await waitFor(() => childLines.includes("ready"), "the other member to join");
      const survivor: BusMessage[] = [];
      await bus.subscribe({ topics: [topic], groupId: group }, async (batch) => {
        survivor.push(...batch);
      });
      const keys = Array.from({ length: 12 }, (_, i) => `CP_D${i}`);
      await waitFor(
        async () => {
          await bus.publish(
            topic,
            keys.map((key) => ({ key, value: "before" })),
          );
          return survivor.length > 0 && childLines.some((l) => l.startsWith("got "));
        },
        "both members to receive messages",
        { everyMs: 300 },
      );

      child.kill("SIGKILL");
      await child.exited;
      await bus.publish(
        topic,
        keys.map((key) => ({ key, value: "after" })),
      );
      const seenAfter = () => new Set(survivor.filter((m) => textDecoder.decode(m.value) === "after").map((m) => m.key));
      await waitFor(() => seenAfter().size === keys.length, "the survivor to get every key after the death", { timeoutMs: 30_000 });
      expect([...seenAfter()].sort()).toEqual([...keys].sort());
    } finally {
      child.kill("SIGKILL");
      await bus.close();
    }
  }, 60_000);
});

describe("a Kafka subscription across a broker restart", () => {
  const broker = new OwnBroker();
  afterAll(() => broker.remove());

  test("reconnects by itself and loses none of the messages the broker accepted", async () => {
    await broker.up();
    const topic = `${prefix}.restart`;
    const logged: string[] = [];
    const log = createLogger("bus");
    const capture = { ...log, warn: (msg: string) => logged.push(msg), info: (msg: string) => logged.push(msg) };
    const bus = new KafkaBus({
      brokers: broker.brokers,
      clientId: "evnet-test-restart",
      sessionTimeoutMs: 6_000,
      heartbeatIntervalMs: 500,
      operationTimeoutMs: 5_000,
      log: capture,
    });
    try {
      await bus.ensureTopics([topic]);
      const received: string[] = [];
      await bus.subscribe({ topics: [topic], groupId: `${prefix}-restart` }, async (batch) => {
        received.push(...batch.map((m) => textDecoder.decode(m.value)));
      });
      const publish = (from: number, count: number) =>
        bus.publish(
          topic,
          Array.from({ length: count }, (_, i) => ({ key: "CP_K", value: String(from + i) })),
        );
      await publish(0, 10);
      await waitFor(() => received.length >= 10, "the first 10 messages");

      await broker.down();
      await waitFor(() => logged.includes("kafka consumer lost; reconnecting"), "the subscription to notice the broker is gone", { timeoutMs: 30_000 });
      const duringOutage = await publish(100, 1).catch((e: unknown) => e);
      expect(duringOutage).toBeInstanceOf(BusError);

      await broker.up();
      // A publisher buffers and retries until the broker takes the messages again.
      await waitFor(
        async () =>
          await publish(10, 10).then(
            () => true,
            () => false,
          ),
        "the restarted broker to accept messages",
        { timeoutMs: 60_000, everyMs: 500 },
      );
      await waitFor(() => logged.includes("kafka consumer reconnected"), "the subscription to reconnect", { timeoutMs: 60_000 });
      await waitFor(() => received.includes("19"), "the messages published after the restart", { timeoutMs: 60_000 });
      // The message refused during the outage may or may not land later; the rest must all be there, in order.
      const firstSeen = received.filter((v, i) => v !== "100" && received.indexOf(v) === i);
      expect(firstSeen).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
    } finally {
      await bus.close();
    }
  }, 180_000);
});
