/**
 * One consumer-group member of the Kafka bus. It reads what the client has fetched, cuts it into
 * batches of one partition, hands each batch to the handler in order, and commits its offset
 * only once the handler resolved. Partitions are handled one after another (per-key order is all
 * the system needs, and it keeps a member's behaviour easy to follow).
 *
 * Failures and how they are met:
 * - the handler throws: a fresh stream on the same consumer restarts from the committed offsets
 *   after a pause, so the same messages come again (at least once) and the group is not
 *   disturbed (the new stream is opened before the old one is closed, so no rebalance);
 * - a rebalance: the client refetches from committed offsets; what this member already handled
 *   is skipped by offset, and messages of a partition it no longer owns are left to the new owner;
 * - the broker goes away (the stream dies, heartbeats stall): the consumer is replaced by a new
 *   one, retried with backoff until the broker answers again. Nothing uncommitted is lost: the
 *   new member starts from the committed offsets.
 */
import { Consumer, type Message, type MessagesStream } from "@platformatic/kafka";
import type { Logger } from "../../lib/log.ts";
import type { BatchHandler, BusMessage, SubscribeOptions } from "../bus.ts";
import { closeWithin, describeKafkaError, sleep, withDeadline } from "./calls.ts";

export interface ConsumerTuning {
  clientId: string;
  bootstrapBrokers: string[];
  connectTimeout: number;
  timeout: number;
  retries: number;
  retryDelay: number;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  redeliveryDelayMs: number;
  /** Longest wait for joining the group and opening the stream. */
  startTimeoutMs: number;
}

type KafkaMessage = Message<Buffer, Buffer, Buffer, Buffer>;
type Stream = MessagesStream<Buffer, Buffer, Buffer, Buffer>;

const MAX_BATCH = 500;
const IDLE_POLL_MS = 1_000;
const MAX_RECONNECT_DELAY_MS = 5_000;
const MAX_REDELIVERY_DELAY_MS = 5_000;

export class KafkaSubscription {
  private consumer: Consumer | undefined;
  private stream: Stream | undefined;
  private closed = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private recovering: Promise<void> | undefined;
  /** Next offset to handle per "topic:partition": refetched messages below it were handled already. */
  private readonly handled = new Map<string, bigint>();

  constructor(
    private readonly options: SubscribeOptions,
    private readonly handler: BatchHandler,
    private readonly tuning: ConsumerTuning,
    private readonly log: Logger,
  ) {}

  /** Joins the group and starts delivering; rejects when the broker cannot be reached. */
  async start(): Promise<void> {
    await this.connect();
    this.loop = this.run();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.signal();
    await this.loop; // lets the batch in hand finish and commit
    await this.disconnect();
  }

  private async connect(): Promise<void> {
    const t = this.tuning;
    const consumer = new Consumer({
      clientId: t.clientId,
      bootstrapBrokers: t.bootstrapBrokers,
      connectTimeout: t.connectTimeout,
      timeout: t.timeout,
      retries: t.retries,
      retryDelay: t.retryDelay,
      groupId: this.options.groupId,
      sessionTimeout: t.sessionTimeoutMs,
      heartbeatInterval: t.heartbeatIntervalMs,
      rebalanceTimeout: t.sessionTimeoutMs + 5_000,
      heartbeatStallTimeout: t.sessionTimeoutMs,
      autocommit: false,
      maxWaitTime: IDLE_POLL_MS,
      highWaterMark: MAX_BATCH,
    });
    // The client reports background failures as 'error' events; unheard, they would crash the process.
    consumer.on("error", (err: unknown) => this.log.debug("kafka consumer error", { group: this.options.groupId, err: describeKafkaError(err) }));
    consumer.on("consumer:heartbeat:stalled", () => {
      if (this.consumer === consumer) this.recover("heartbeats to the group coordinator stalled");
    });
    try {
      const stream = await this.openStream(consumer);
      if (this.closed) {
        await closeWithin(() => stream.close(), 2_000);
        throw new Error("subscription closed while connecting");
      }
      this.consumer = consumer;
      this.attach(stream);
    } catch (err) {
      void closeWithin(() => consumer.close(true), 5_000);
      throw err;
    }
  }

  /**
   * Opens a stream and waits until it has fixed its starting offsets, so that with `from:
   * "latest"` a message published after `subscribe` resolved is never skipped.
   */
  private openStream(consumer: Consumer): Promise<Stream> {
    const opening = (async () => {
      const stream = await consumer.consume({
        topics: this.options.topics,
        mode: "committed",
        fallbackMode: this.options.from ?? "earliest",
        autocommit: false,
      });
      // Never an unheard 'error' (it would crash the process): failures are handled by the
      // promise below while starting, then by attach().
      stream.on("error", () => {});
      await new Promise<void>((resolve, reject) => {
        const done = (err?: Error) => {
          stream.off("offsets", onOffsets).off("error", done).off("close", onClose);
          if (err) reject(err);
          else resolve();
        };
        const onOffsets = () => done();
        const onClose = () => done(new Error("the message stream closed while starting"));
        stream.once("offsets", onOffsets).once("error", done).once("close", onClose);
      });
      return stream;
    })();
    return withDeadline(
      opening,
      this.tuning.startTimeoutMs,
      () => new Error(`joining group ${this.options.groupId} took longer than ${this.tuning.startTimeoutMs} ms`),
    );
  }

  private attach(stream: Stream): void {
    this.stream = stream;
    stream.on("readable", () => this.signal());
    stream.on("error", (err) => {
      if (this.stream === stream) this.recover(describeKafkaError(err));
    });
    stream.on("close", () => {
      if (this.stream === stream) this.recover("the message stream closed");
    });
  }

  private async disconnect(): Promise<void> {
    const { consumer, stream } = this;
    this.consumer = undefined;
    this.stream = undefined;
    if (stream) await closeWithin(() => stream.close(), 3_000);
    if (consumer) await closeWithin(() => consumer.close(true), 5_000);
  }

  /** Replaces the consumer after a connection failure, retrying with backoff until it works. */
  private recover(reason: string): void {
    if (this.closed || this.recovering) return;
    this.log.warn("kafka consumer lost; reconnecting", { group: this.options.groupId, reason });
    this.recovering = (async () => {
      void this.disconnect();
      let delay = 500;
      while (!this.closed) {
        try {
          await this.connect();
          this.log.info("kafka consumer reconnected", { group: this.options.groupId });
          break;
        } catch (err) {
          if (this.closed) break;
          this.log.warn("kafka still unreachable", { group: this.options.groupId, retry_in_ms: delay, err: describeKafkaError(err) });
          await sleep(delay);
          delay = Math.min(delay * 2, MAX_RECONNECT_DELAY_MS);
        }
      }
      this.recovering = undefined;
      this.signal();
    })();
  }

  private signal(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.closed) {
      const messages = this.drain();
      if (messages.length === 0) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          setTimeout(resolve, IDLE_POLL_MS); // a safety net: never wait on a lost wake-up
        });
        continue;
      }
      if (await this.deliver(messages)) {
        failures = 0;
      } else {
        // A handler that keeps failing (its database is down, say) is retried less and less often.
        failures++;
        await this.restartFromCommitted();
        await sleep(Math.min(this.tuning.redeliveryDelayMs * 2 ** (failures - 1), MAX_REDELIVERY_DELAY_MS));
      }
    }
  }

  /** Everything the client has buffered, up to a batch. */
  private drain(): KafkaMessage[] {
    const stream = this.stream;
    const out: KafkaMessage[] = [];
    if (!stream || this.recovering) return out;
    let message: KafkaMessage | null;
    while (out.length < MAX_BATCH && (message = stream.read() as KafkaMessage | null) !== null) out.push(message);
    return out;
  }

  /** Hands the messages to the handler partition by partition; false when the handler threw. */
  private async deliver(messages: KafkaMessage[]): Promise<boolean> {
    for (const [key, batch] of byPartition(messages)) {
      const { topic, partition } = batch[0]!;
      if (!this.owns(topic, partition)) continue; // revoked by a rebalance: its new owner reads it
      const from = this.handled.get(key) ?? -1n;
      const fresh = batch.filter((m) => m.offset >= from);
      if (fresh.length === 0) continue;
      try {
        await this.handler(fresh.map(toBusMessage));
      } catch (err) {
        this.log.warn("bus handler failed; the batch will be delivered again", {
          group: this.options.groupId,
          topic,
          partition,
          from_offset: String(fresh[0]!.offset),
          count: fresh.length,
          err: err instanceof Error ? err.message : String(err),
        });
        return false;
      }
      const last = fresh[fresh.length - 1]!;
      this.handled.set(key, last.offset + 1n);
      await this.commit(last);
    }
    return true;
  }

  private owns(topic: string, partition: number): boolean {
    return this.consumer?.assignments?.some((a) => a.topic === topic && a.partitions.includes(partition)) ?? false;
  }

  private async commit(last: KafkaMessage): Promise<void> {
    const consumer = this.consumer;
    if (!consumer || !this.owns(last.topic, last.partition)) return;
    try {
      await withDeadline(
        consumer.commit({
          offsets: [{ topic: last.topic, partition: last.partition, offset: last.offset + 1n, leaderEpoch: last.leaderEpoch }],
        }),
        this.tuning.startTimeoutMs,
        () => new Error("offset commit timed out"),
      );
    } catch (err) {
      // Not fatal: the messages were handled; whoever reads the partition next sees them again.
      this.log.warn("offset commit failed; these messages may be delivered again", {
        group: this.options.groupId,
        topic: last.topic,
        partition: last.partition,
        err: describeKafkaError(err),
      });
    }
  }

  /**
   * Opens a new stream on the same consumer (it starts at the committed offsets), then closes the
   * old one. Both track the same topics meanwhile, so the group membership does not change.
   */
  private async restartFromCommitted(): Promise<void> {
    const consumer = this.consumer;
    const old = this.stream;
    if (!consumer || !old || this.closed || this.recovering) return;
    this.stream = undefined; // the old stream's own failures no longer matter
    let fresh: Stream;
    try {
      fresh = await this.openStream(consumer);
    } catch (err) {
      void closeWithin(() => old.close(), 3_000);
      if (this.consumer === consumer) this.recover(`could not restart the stream: ${describeKafkaError(err)}`);
      return;
    }
    void closeWithin(() => old.close(), 3_000);
    if (this.consumer !== consumer || this.closed) {
      void closeWithin(() => fresh.close(), 3_000); // replaced or closed meanwhile
      return;
    }
    this.attach(fresh);
  }
}

function byPartition(messages: KafkaMessage[]): Map<string, KafkaMessage[]> {
  const groups = new Map<string, KafkaMessage[]>();
  for (const m of messages) {
    const key = `${m.topic}:${m.partition}`;
    const list = groups.get(key);
    if (list) list.push(m);
    else groups.set(key, [m]);
  }
  return groups;
}

function toBusMessage(m: KafkaMessage): BusMessage {
  const headers: Record<string, string> = {};
  for (const [k, v] of m.headers) headers[k.toString()] = v.toString();
  return {
    topic: m.topic,
    key: m.key ? m.key.toString("utf8") : "",
    value: m.value ?? new Uint8Array(),
    headers,
    partition: m.partition,
    offset: m.offset,
    timestamp: Number(m.timestamp),
  };
}
