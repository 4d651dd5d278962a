/**
 * The ceiling: how many messages per second the raw Kafka client moves on this machine, with
 * nothing of evnet in the way. Messages have the size of an encrypted telemetry message and
 * the CP ids as keys, on a topic with the partitions Central's topics have, on the same broker.
 *
 * This is the ONE place outside src/bus/kafka* that imports @platformatic/kafka: it measures
 * the raw client itself, so it must not go through our adapter.
 *
 * Run as a child process by bench/run.ts:
 *   bun bench/ceiling.ts produce <brokers> <topic> <count> <size> <keys>
 *   bun bench/ceiling.ts consume <brokers> <topic> <count> <group>
 * Each prints one JSON line with what it measured (and `{"ready":true}` when a consumer is in
 * its group and reading).
 */
import { Consumer, compatibilityPartitioner, Producer } from "@platformatic/kafka";

/** Batches in flight at once, and messages per batch: enough to keep the broker busy. */
const IN_FLIGHT = 8;
const BATCH = 500;

async function produce(brokers: string[], topic: string, count: number, size: number, keys: number): Promise<void> {
  // The same settings as our adapter's producer (idempotent, acks from all, murmur2 keys).
  const producer = new Producer({ clientId: "bench-ceiling-producer", bootstrapBrokers: brokers, idempotent: true, partitioner: compatibilityPartitioner });
  const value = Buffer.alloc(size, "x");
  const keyBuffers = Array.from({ length: keys }, (_, i) => Buffer.from(cpId(i)));
  let next = 0;
  const started = Date.now();
  const worker = async () => {
    while (next < count) {
      const from = next;
      next = Math.min(count, next + BATCH);
      const messages = [];
      for (let i = from; i < next; i++) messages.push({ topic, key: keyBuffers[i % keys]!, value });
      await producer.send({ messages });
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  const finished = Date.now();
  await producer.close();
  console.log(JSON.stringify({ sent: count, startedAt: started, finishedAt: finished, perSecond: Math.round(count / ((finished - started) / 1000)) }));
}

async function consume(brokers: string[], topic: string, count: number, groupId: string): Promise<void> {
  const consumer = new Consumer({ clientId: "bench-ceiling-consumer", bootstrapBrokers: brokers, groupId, autocommit: 1000, maxWaitTime: 100 });
  const stream = await consumer.consume({ topics: [topic], mode: "committed", fallbackMode: "earliest" });
  // Timed from here (in the group, offsets known): the first fetch is part of consuming.
  const readyAt = Date.now();
  console.log(JSON.stringify({ ready: true }));
  let received = 0;
  let firstAt = 0;
  await new Promise<void>((resolve, reject) => {
    stream.on("error", reject);
    stream.on("data", () => {
      if (received === 0) firstAt = Date.now();
      if (++received >= count) resolve();
    });
  });
  const lastAt = Date.now();
  console.log(JSON.stringify({ received, readyAt, firstAt, lastAt, perSecond: Math.round(received / Math.max(0.001, (lastAt - readyAt) / 1000)) }));
  await stream.close();
  await consumer.close(true);
}

/** The CP ids the benchmark's chargers have (bench/fleet.ts), so keys spread over partitions alike. */
export function cpId(i: number): string {
  return `CP-${String(i).padStart(6, "0")}`;
}

if (import.meta.main) {
  const [mode, brokers, topic, count, a, b] = process.argv.slice(2);
  const list = (brokers ?? "").split(",");
  if (mode === "produce") await produce(list, topic!, Number(count), Number(a), Number(b));
  else if (mode === "consume") await consume(list, topic!, Number(count), a!);
  else throw new Error("usage: ceiling.ts produce|consume ...");
  process.exit(0);
}
