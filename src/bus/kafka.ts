/**
 * The Kafka adapter of the bus, on @platformatic/kafka (pure JavaScript: it runs under Bun and in
 * the compiled binary, see docs/kafka-client.md). Only this file and src/bus/kafka/ import the
 * client, so it can be swapped behind src/bus/bus.ts.
 *
 * Publishing is idempotent with acks from all in-sync replicas, keyed by CP id with Kafka's
 * Java-compatible murmur2 partitioner (so per-key order holds, whatever client produced), and
 * bounded in time: an unreachable broker makes `publish` reject with a BusError within seconds,
 * so a caller can buffer and retry instead of hanging.
 */
import { Admin, compatibilityPartitioner, Producer } from "@platformatic/kafka";
import { ConfigError } from "../config/env.ts";
import { createLogger, type Logger } from "../lib/log.ts";
import {
  type BatchHandler,
  type Bus,
  BusError,
  DEFAULT_SESSION_TIMEOUT_MS,
  type OutgoingMessage,
  type SubscribeOptions,
  type Subscription,
  type TopicMessage,
} from "./bus.ts";
import { closeWithin, describeKafkaError, withDeadline } from "./kafka/calls.ts";
import { type ConsumerTuning, KafkaSubscription } from "./kafka/subscription.ts";
import type { KafkaSecurity } from "./kafka-security.ts";
import { topicConfigs } from "./topics.ts";

export interface KafkaBusOptions {
  brokers: string[];
  clientId: string;
  /** Partitions of a topic `ensureTopics` creates (default 3). */
  partitions?: number;
  /** Replicas of a topic `ensureTopics` creates (default: the broker's default.replication.factor). */
  replicationFactor?: number;
  /** How long a silent group member keeps its partitions before the others take them (default 6 s: docs/failover.md). */
  sessionTimeoutMs?: number;
  /** How often a member tells the group it is alive (default 1 s; keep it under a third of the session). */
  heartbeatIntervalMs?: number;
  /** Longest a publish or an admin call may take before it fails (default 10 s). */
  operationTimeoutMs?: number;
  /** Pause before a batch whose handler threw is delivered again (default 500 ms). */
  redeliveryDelayMs?: number;
  /** TLS and SASL for every connection (see kafka-security.ts). */
  security?: KafkaSecurity;
  log?: Logger;
}

/** How far a consumer group is behind on some topics: end offset minus committed offset. */
export interface GroupLag {
  /** Messages published but not yet committed by the group, over all partitions. */
  total: number;
  partitions: { topic: string; partition: number; end: number; committed: number; lag: number }[];
}

/** A consumer group as the broker's coordinator describes it: who is in it and what each reads. */
export interface GroupDescription {
  state: string;
  /** The assignment protocol the group agreed on. */
  protocol: string;
  members: { memberId: string; clientId: string; assignments: { topic: string; partitions: number[] }[] }[];
}

const CONNECT_TIMEOUT_MS = 3_000;
const REQUEST_TIMEOUT_MS = 5_000;

/** The client's TLS and SASL options for `security` (none for plaintext). */
export function kafkaConnectionSecurity(security: KafkaSecurity | undefined): Pick<ConsumerTuning, "tls" | "sasl"> {
  return {
    ...(security?.tls && { tls: { ca: security.tls.ca } }),
    ...(security?.sasl && { sasl: { ...security.sasl } }),
  };
}

export class KafkaBus implements Bus {
  readonly kind = "kafka" as const;
  private readonly log: Logger;
  private readonly producer: Producer;
  private admin: Admin | undefined;
  private readonly subscriptions = new Set<KafkaSubscription>();
  private readonly operationTimeoutMs: number;
  private closed = false;

  constructor(private readonly options: KafkaBusOptions) {
    this.log = options.log ?? createLogger("bus");
    const session = options.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS;
    if ((options.heartbeatIntervalMs ?? 1_000) * 3 > session)
      throw new ConfigError(`Kafka heartbeat interval (KAFKA_HEARTBEAT_INTERVAL_MS) must be at most a third of the session timeout (${session} ms)`);
    this.operationTimeoutMs = options.operationTimeoutMs ?? 10_000;
    this.producer = new Producer({
      ...this.connection("producer"),
      idempotent: true, // implies acks = all; the broker drops duplicates of a retried batch
      partitioner: compatibilityPartitioner,
    });
  }

  /** Client options every client shares: bounded connects, requests and retries, TLS and SASL. */
  private connection(role: string) {
    return {
      clientId: `${this.options.clientId}-${role}`,
      bootstrapBrokers: this.options.brokers,
      connectTimeout: CONNECT_TIMEOUT_MS,
      timeout: REQUEST_TIMEOUT_MS,
      retries: 2,
      retryDelay: 250,
      ...kafkaConnectionSecurity(this.options.security),
    };
  }

  private where(): string {
    return this.options.brokers.join(",");
  }

  /** Runs a client call under the operation deadline, turning failures into a BusError. */
  private async bounded<T>(what: string, call: () => Promise<T>): Promise<T> {
    if (this.closed) throw new BusError("closed", `cannot ${what}: the bus is closed`);
    const timeout = () => new BusError("timeout", `cannot ${what}: Kafka at ${this.where()} did not answer within ${this.operationTimeoutMs} ms`);
    try {
      return await withDeadline(call(), this.operationTimeoutMs, timeout);
    } catch (err) {
      if (err instanceof BusError) throw err;
      throw new BusError("unavailable", `cannot ${what}: Kafka at ${this.where()} failed: ${describeKafkaError(err)}`, { cause: err });
    }
  }

  async publish(topic: string, messages: OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return;
    await this.bounded(`publish to ${topic}`, () => this.send(messages.map((m) => toRecord(topic, m))));
  }

  async publishAll(messages: TopicMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const topics = [...new Set(messages.map((m) => m.topic))].join(", ");
    await this.bounded(`publish to ${topics}`, () => this.send(messages.map((m) => toRecord(m.topic, m))));
  }

  /**
   * Sends records in produce requests of at most REQUEST_BYTES each, one after the other (so
   * that each partition's records keep their order). A broker refuses a partition's batch
   * larger than its `message.max.bytes` (1 MiB by default) as a whole: a batch of thousands of
   * messages (dead letters, an outbox emptied after an outage) would otherwise never leave.
   */
  private async send(records: KafkaRecord[]): Promise<void> {
    for (const part of requestsOf(records)) await this.producer.send({ messages: part });
  }

  async ensureTopics(topics: string[]): Promise<void> {
    const admin = (this.admin ??= new Admin(this.connection("admin")));
    await this.bounded(`create topics ${topics.join(", ")}`, async () => {
      const existing = new Set(await admin.listTopics());
      const missing = topics.filter((t) => !existing.has(t));
      if (missing.length === 0) return;
      // Those without settings of their own in one request; a request carries one set of settings,
      // so a topic with its own (the live figures' short retention) goes alone.
      const plain = missing.filter((t) => topicConfigs(t).length === 0);
      const requests = [...(plain.length ? [plain] : []), ...missing.filter((t) => !plain.includes(t)).map((t) => [t])];
      for (const names of requests) {
        try {
          await admin.createTopics({
            topics: names,
            partitions: this.options.partitions ?? 3,
            replicas: this.options.replicationFactor ?? -1,
            configs: topicConfigs(names[0]!),
          });
        } catch (err) {
          // Another role may have created them between our list and create: that is success.
          if (!describeKafkaError(err).includes("TOPIC_ALREADY_EXISTS") && !String(err).includes("already exists")) throw err;
        }
      }
      this.log.info("created topics", { topics: missing.join(","), partitions: this.options.partitions ?? 3 });
    });
  }

  /**
   * The group's lag per partition of `topics` (an operator's and the benchmark's view of
   * whether consumers keep up). A partition the group never committed counts from offset 0.
   */
  async lag(groupId: string, topics: string[]): Promise<GroupLag> {
    const admin = (this.admin ??= new Admin(this.connection("admin")));
    return this.bounded(`read the lag of group ${groupId}`, async () => {
      const metadata = await admin.metadata({ topics, forceUpdate: true });
      const wanted = topics.map((name) => ({ name, partitionIndexes: [...Array(metadata.topics.get(name)?.partitionsCount ?? 0).keys()] }));
      const [ends, groups] = await Promise.all([
        admin.listOffsets({
          topics: wanted.map((t) => ({ name: t.name, partitions: t.partitionIndexes.map((partitionIndex) => ({ partitionIndex, timestamp: -1n })) })),
        }),
        admin.listConsumerGroupOffsets({ groups: [{ groupId, topics: wanted }] }),
      ]);
      const committed = new Map<string, bigint>();
      for (const t of groups[0]?.topics ?? []) for (const p of t.partitions) committed.set(`${t.name}:${p.partitionIndex}`, p.committedOffset);
      const partitions = ends.flatMap((t) =>
        t.partitions.map((p) => {
          const end = Number(p.offset);
          const done = Math.max(0, Number(committed.get(`${t.name}:${p.partitionIndex}`) ?? 0n));
          return { topic: t.name, partition: p.partitionIndex, end, committed: done, lag: Math.max(0, end - done) };
        }),
      );
      return { total: partitions.reduce((sum, p) => sum + p.lag, 0), partitions };
    });
  }

  /** Who is in a consumer group and which partitions each member was given (what the broker's group tool shows). */
  async describeGroup(groupId: string): Promise<GroupDescription> {
    const admin = (this.admin ??= new Admin(this.connection("admin")));
    return this.bounded(`describe group ${groupId}`, async () => {
      const group = (await admin.describeGroups({ groups: [groupId] })).get(groupId);
      return {
        state: String(group?.state ?? "DEAD"),
        protocol: group?.protocol ?? "",
        members: [...(group?.members.values() ?? [])].map((m) => ({
          memberId: m.id,
          clientId: m.clientId,
          assignments: [...(m.assignments?.values() ?? [])].map((a) => ({ topic: a.topic, partitions: [...a.partitions].sort((x, y) => x - y) })),
        })),
      };
    });
  }

  async subscribe(options: SubscribeOptions, handler: BatchHandler): Promise<Subscription> {
    if (this.closed) throw new BusError("closed", "cannot subscribe: the bus is closed");
    const tuning: ConsumerTuning = {
      ...this.connection(`consumer-${options.groupId}`),
      sessionTimeoutMs: this.options.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS,
      heartbeatIntervalMs: this.options.heartbeatIntervalMs ?? 1_000,
      redeliveryDelayMs: this.options.redeliveryDelayMs ?? 500,
      startTimeoutMs: Math.max(this.operationTimeoutMs, (this.options.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS) * 2),
    };
    const subscription = new KafkaSubscription(options, handler, tuning, this.log);
    try {
      await subscription.start();
    } catch (err) {
      await subscription.close();
      throw new BusError(
        "unavailable",
        `cannot subscribe ${options.groupId} to ${options.topics.join(", ")}: Kafka at ${this.where()} failed: ${describeKafkaError(err)}`,
        { cause: err },
      );
    }
    this.subscriptions.add(subscription);
    return {
      close: async () => {
        this.subscriptions.delete(subscription);
        await subscription.close();
      },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.subscriptions].map((s) => s.close()));
    this.subscriptions.clear();
    await Promise.allSettled([closeWithin(() => this.producer.close(), 5_000), this.admin && closeWithin(() => this.admin!.close(), 5_000)]);
  }
}

/** A message as the Kafka client sends it. */
type KafkaRecord = ReturnType<typeof toRecord>;

/** Bytes of records in one produce request, well under a broker's default `message.max.bytes` (1 MiB). */
const REQUEST_BYTES = 512 * 1024;
/** What a record costs in a request besides its key, value and headers (lengths, offsets, timestamps), at most. */
const RECORD_OVERHEAD_BYTES = 32;

/** Records in consecutive parts of at most REQUEST_BYTES (a larger record alone: the broker says whether it takes it). */
export function requestsOf(records: KafkaRecord[], budget = REQUEST_BYTES): KafkaRecord[][] {
  const parts: KafkaRecord[][] = [];
  let part: KafkaRecord[] = [];
  let bytes = 0;
  for (const r of records) {
    let size = RECORD_OVERHEAD_BYTES + r.key.length + r.value.length;
    if (r.headers) for (const [k, v] of r.headers) size += RECORD_OVERHEAD_BYTES + k.length + v.length;
    if (part.length > 0 && bytes + size > budget) {
      parts.push(part);
      part = [];
      bytes = 0;
    }
    part.push(r);
    bytes += size;
  }
  if (part.length > 0) parts.push(part);
  return parts;
}

/** An outgoing message as the client's record. */
function toRecord(topic: string, m: OutgoingMessage) {
  return {
    topic,
    key: Buffer.from(m.key),
    value: asBuffer(m.value),
    headers: m.headers ? new Map(Object.entries(m.headers).map(([k, v]) => [Buffer.from(k), Buffer.from(v)])) : undefined,
  };
}

/** A message's value as the client takes it, without copying it again: text encoded once, bytes viewed where they are. */
function asBuffer(value: Uint8Array | string): Buffer {
  if (typeof value === "string") return Buffer.from(value, "utf8");
  return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}
