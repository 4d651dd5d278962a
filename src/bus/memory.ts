/**
 * In-process bus with Kafka's semantics where they matter here: a topic is a set of
 * partitions chosen by key hash, each an append-only log; a consumer group shares one
 * committed offset per partition and its members split the partitions; a handler that throws
 * gets the same messages again (at least once). Used by `evnet up` without KAFKA_BROKERS.
 */
import type { BatchHandler, Bus, BusMessage, OutgoingMessage, SubscribeOptions, Subscription, TopicMessage } from "./bus.ts";
import { BusError, toBytes } from "./bus.ts";

const PARTITIONS = 3;
const MAX_BATCH = 500;
const RETRY_DELAY_MS = 200;

export function partitionFor(key: string, partitions: number): number {
  // FNV-1a: stable and cheap; any stable hash keeps per-key order.
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % partitions;
}

interface Member {
  handler: BatchHandler;
  topics: string[];
  maxBatch: number;
  copartitioned: boolean;
  closed: boolean;
}

interface Group {
  members: Member[];
  /** committed offset per "topic/partition" */
  offsets: Map<string, number>;
  /** "topic/partition" currently being delivered ("#partition" for a co-partitioned member) */
  busy: Set<string>;
  from: "earliest" | "latest";
}

export class MemoryBus implements Bus {
  readonly kind = "memory" as const;
  private logs = new Map<string, BusMessage[][]>();
  private groups = new Map<string, Group>();
  private closed = false;

  private log(topic: string): BusMessage[][] {
    let parts = this.logs.get(topic);
    if (!parts) {
      parts = Array.from({ length: PARTITIONS }, () => []);
      this.logs.set(topic, parts);
    }
    return parts;
  }

  async ensureTopics(topics: string[]): Promise<void> {
    for (const t of topics) this.log(t);
  }

  async publish(topic: string, messages: OutgoingMessage[]): Promise<void> {
    if (this.closed) throw new BusError("closed", "bus is closed");
    const parts = this.log(topic);
    const touched = new Set<number>();
    for (const m of messages) {
      const partition = partitionFor(m.key, PARTITIONS);
      const log = parts[partition]!;
      log.push({
        topic,
        key: m.key,
        value: toBytes(m.value),
        headers: m.headers,
        partition,
        offset: BigInt(log.length),
        timestamp: Date.now(),
      });
      touched.add(partition);
    }
    for (const group of this.groups.values()) for (const p of touched) this.pump(group, topic, p);
  }

  async publishAll(messages: TopicMessage[]): Promise<void> {
    if (this.closed) throw new BusError("closed", "bus is closed");
    const byTopic = Map.groupBy(messages, (m) => m.topic);
    for (const [topic, ofTopic] of byTopic) await this.publish(topic, ofTopic);
  }

  async subscribe(options: SubscribeOptions, handler: BatchHandler): Promise<Subscription> {
    let group = this.groups.get(options.groupId);
    if (!group) {
      group = { members: [], offsets: new Map(), busy: new Set(), from: options.from ?? "earliest" };
      this.groups.set(options.groupId, group);
    }
    const member: Member = {
      handler,
      topics: options.topics,
      maxBatch: options.maxBatch ?? MAX_BATCH,
      copartitioned: options.copartitioned ?? false,
      closed: false,
    };
    group.members.push(member);
    const g = group;
    for (const topic of options.topics) {
      const parts = this.log(topic);
      parts.forEach((log, p) => {
        const id = `${topic}/${p}`;
        if (!g.offsets.has(id)) g.offsets.set(id, g.from === "latest" ? log.length : 0);
        this.pump(g, topic, p);
      });
    }
    return {
      close: async () => {
        member.closed = true;
        g.members = g.members.filter((m) => m !== member);
      },
    };
  }

  /** The live member that owns a partition: partitions are dealt round-robin over members. */
  private owner(group: Group, topic: string, partition: number): Member | undefined {
    const candidates = group.members.filter((m) => !m.closed && m.topics.includes(topic));
    if (candidates.length === 0) return undefined;
    return candidates[partition % candidates.length];
  }

  private pump(group: Group, topic: string, partition: number): void {
    const id = `${topic}/${partition}`;
    const member = this.owner(group, topic, partition);
    if (!member) return;
    const slot = member.copartitioned ? `#${partition}` : id;
    if (this.closed || group.busy.has(slot)) return;
    const log = this.log(topic)[partition]!;
    const from = group.offsets.get(id) ?? 0;
    if (from >= log.length) return;
    const batch = log.slice(from, from + member.maxBatch);
    group.busy.add(slot);
    // Once done, the partition (of every topic, when co-partitioned) may have more waiting.
    const next = () => {
      for (const t of member.copartitioned ? member.topics : [topic]) this.pump(group, t, partition);
    };
    queueMicrotask(async () => {
      let ok = false;
      try {
        await member.handler(batch);
        ok = true;
      } catch {
        // at least once: the same batch is delivered again after a pause
      }
      group.busy.delete(slot);
      if (ok) {
        group.offsets.set(id, from + batch.length);
        next();
      } else {
        setTimeout(next, RETRY_DELAY_MS);
      }
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.groups.clear();
  }
}
