/**
 * Runs the raw-client ceiling (bench/ceiling.ts) as two processes, like the load generator
 * and Central: a consumer and a producer at full speed at once (the pipe), then a second
 * consumer draining the same backlog alone (the best a consumer does).
 */
import { KafkaBus } from "../src/bus/kafka.ts";
import { seal } from "../src/crypto/envelope.ts";
import { newChannelKey } from "../src/crypto/keys.ts";
import { type RoleProcess, spawnRole } from "../tests/support/processes.ts";
import { cpId } from "./ceiling.ts";
import { CpuMeter } from "./proc.ts";

export interface Ceiling {
  messageBytes: number;
  messages: number;
  partitions: number;
  /** Produced and consumed at once, by two processes: messages/s through the pipe. */
  pipelinePerS: number;
  producerPerS: number;
  /** A consumer alone draining the backlog. */
  drainPerS: number;
  cpu: { producer: number; consumer: number; drainConsumer: number; kafka: number };
}

const SCRIPT = new URL("./ceiling.ts", import.meta.url).pathname;

/** Bytes on the wire of a sealed telemetry message as an engine sends it. */
export function telemetryMessageBytes(): number {
  const key = newChannelKey();
  const cp = cpId(12345);
  const payload = {
    type: "telemetry",
    session_id: `S-${Date.now().toString(36)}-${crypto.randomUUID().slice(0, 8)}`,
    power_kw: 22,
    energy_kwh: 12.345,
    cost_eur: 4.32,
    elapsed_s: 2021.4,
    at: new Date().toISOString(),
  };
  return Buffer.byteLength(seal({ sub: `cp:${cp}`, kid: key.keyId, sender: `engine:${cp}`, seq: Date.now() * 1000 }, key.key, payload));
}

function lastJson(role: RoleProcess, pattern: RegExp, timeoutMs: number): Promise<Record<string, number>> {
  return role.waitForLine(pattern, timeoutMs).then((l) => JSON.parse(l));
}

export async function measureCeiling(opts: {
  brokers: string[];
  partitions: number;
  messages: number;
  keys: number;
  kafkaPid?: number;
  prefix: string;
}): Promise<Ceiling> {
  const topic = `${opts.prefix}.ceiling`;
  const admin = new KafkaBus({ brokers: opts.brokers, clientId: "bench-ceiling-admin", partitions: opts.partitions });
  await admin.ensureTopics([topic]);
  await admin.close();
  const size = telemetryMessageBytes();
  const brokers = opts.brokers.join(",");
  const run = (name: string, args: string[]) => spawnRole(name, [], {}, { command: [process.execPath, SCRIPT, ...args] });
  const kafka = new CpuMeter(() => (opts.kafkaPid ? [opts.kafkaPid] : []));

  const consumer = run("ceiling-consumer", ["consume", brokers, topic, String(opts.messages), `${opts.prefix}.ceiling-pipe`]);
  await consumer.waitForLine(/"ready":true/, 60_000);
  const producer = run("ceiling-producer", ["produce", brokers, topic, String(opts.messages), String(size), String(opts.keys)]);
  const cpuConsumer = new CpuMeter(() => [consumer.proc.pid]);
  const cpuProducer = new CpuMeter(() => [producer.proc.pid]);
  cpuConsumer.begin();
  cpuProducer.begin();
  kafka.begin();
  const produced = await lastJson(producer, /"sent":/, 600_000);
  const producerCpu = cpuProducer.end();
  const consumed = await lastJson(consumer, /"received":/, 600_000);
  const consumerCpu = cpuConsumer.end();
  const kafkaCpu = kafka.end();
  await Promise.all([producer.proc.exited, consumer.proc.exited]);

  const drain = run("ceiling-drain", ["consume", brokers, topic, String(opts.messages), `${opts.prefix}.ceiling-drain`]);
  const cpuDrain = new CpuMeter(() => [drain.proc.pid]);
  cpuDrain.begin();
  const drained = await lastJson(drain, /"received":/, 600_000);
  const drainCpu = cpuDrain.end();
  await drain.proc.exited;

  const round2 = (x: number) => Math.round(x * 100) / 100;
  return {
    messageBytes: size,
    messages: opts.messages,
    partitions: opts.partitions,
    pipelinePerS: Math.round(opts.messages / ((consumed.lastAt! - produced.startedAt!) / 1000)),
    producerPerS: produced.perSecond!,
    drainPerS: drained.perSecond!,
    cpu: { producer: round2(producerCpu), consumer: round2(consumerCpu), drainConsumer: round2(drainCpu), kafka: round2(kafkaCpu) },
  };
}
