/**
 * An independent reader of Kafka topics, as an eavesdropper with read access would have: the
 * Kafka client library itself (@platformatic/kafka's Consumer), not evnet's bus adapter, so a
 * test sees the bytes on the wire whatever the adapter does.
 */
import { Admin, ConfigResourceTypes, Consumer, type Message } from "@platformatic/kafka";

export interface RawRecord {
  topic: string;
  key: string;
  /** the value as UTF-8 text (what a reader looking for words sees) */
  value: string;
  /** the value's bytes */
  bytes: Buffer;
  headers: Record<string, string>;
}

export class RawKafkaReader {
  readonly records: RawRecord[] = [];
  private consumer: Consumer;
  private closeStream?: () => Promise<void>;

  constructor(brokers: string[], groupId: string) {
    this.consumer = new Consumer({ clientId: "raw-eavesdropper", groupId, bootstrapBrokers: brokers, autocommit: false, maxWaitTime: 500 });
    this.consumer.on("error", () => {});
  }

  /** Reads every message of `topics` from the beginning, until closed. */
  async start(topics: string[]): Promise<void> {
    const stream = await this.consumer.consume({ topics, mode: "earliest", autocommit: false });
    stream.on("error", () => {});
    stream.on("data", (m: Message<Buffer, Buffer, Buffer, Buffer>) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of m.headers) headers[k.toString()] = v.toString();
      this.records.push({
        topic: m.topic,
        key: m.key?.toString("utf8") ?? "",
        value: m.value?.toString("utf8") ?? "",
        bytes: m.value ?? Buffer.alloc(0),
        headers,
      });
    });
    this.closeStream = () => stream.close();
  }

  of(topic: string): RawRecord[] {
    return this.records.filter((r) => r.topic === topic);
  }

  async close(): Promise<void> {
    await this.closeStream?.().catch(() => {});
    await this.consumer.close(true).catch(() => {});
  }
}

/** A topic's setting as the broker holds it (what `kafka-configs.sh --describe` shows), undefined if not set for it. */
export async function topicSetting(brokers: string[], topic: string, name: string): Promise<string | undefined> {
  const admin = new Admin({ clientId: "raw-config-reader", bootstrapBrokers: brokers });
  try {
    const [described] = await admin.describeConfigs({
      resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: topic, configurationKeys: [name] }],
    });
    return described?.configs.find((c) => c.name === name)?.value ?? undefined;
  } finally {
    await admin.close();
  }
}
