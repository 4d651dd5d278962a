/**
 * One consumer-group member of the Kafka bus. It reads what the client has fetched, cuts it into
 * batches of one partition (partition-scheduler.ts decides which, and when), hands each batch to
 * the handler in order, and commits its offset only once the handler resolved (without holding
 * up the partition's next batch). By default partitions are handled one after another (per-key
 * order is all the system needs, and it keeps a member's behaviour easy to follow); a subscriber
 * that does slow work per batch (Central: a database transaction) may ask for several partitions
 * at once (`concurrency`): each partition is still handled one batch at a time, in order, and a
 * batch holds whatever piled up for its partition meanwhile (up to `maxBatch`).
 *
 * Failures and how they are met:
 * - the handler throws: a fresh stream on the same consumer restarts from the committed offsets
 *   after a pause, so the same messages come again (at least once) and the group is not
 *   disturbed (the new stream is opened before the old one is closed, so no rebalance);
 * - a rebalance: the client refetches from committed offsets; what this member already handled
 *   is skipped by offset, and messages of a partition it no longer owns are left to the new owner;
 *   an offset commit the rebalance turns away is sent again after it, for the partitions kept
 *   (and it never makes the member join again by itself: group-consumer.ts);
 * - the broker goes away (the stream dies, heartbeats stall): the consumer is replaced by a new
 *   one, retried with backoff until the broker answers again. Nothing uncommitted is lost: the
 *   new member starts from the committed offsets.
 */
import type { Consumer, GroupAssignment, Message, MessagesStream } from "@platformatic/kafka";
import { LatestPerKey } from "../../lib/latest-per-key.ts";
import type { Logger } from "../../lib/log.ts";
import type { BatchHandler, BusMessage, SubscribeOptions } from "../bus.ts";
import type { KafkaSecurity } from "../kafka-security.ts";
import { closeWithin, describeKafkaError, sleep, withDeadline } from "./calls.ts";
import { copartitionGroupOptions } from "./copartition-assignor.ts";
import { GroupConsumer, StaleCommitError } from "./group-consumer.ts";
import { type Batch, PartitionScheduler, partitionKey } from "./partition-scheduler.ts";

export interface ConsumerTuning {
  clientId: string;
  bootstrapBrokers: string[];
  connectTimeout: number;
  timeout: number;
  retries: number;
  retryDelay: number;
  /** TLS options (a CA to verify the brokers with) and the SASL principal; none for plaintext. */
  tls?: { ca?: string };
  sasl?: KafkaSecurity["sasl"];
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  redeliveryDelayMs: number;
  /** Longest wait for joining the group and opening the stream. */
  startTimeoutMs: number;
}

type KafkaMessage = Message<Buffer, Buffer, Buffer, Buffer>;
type Stream = MessagesStream<Buffer, Buffer, Buffer, Buffer>;

const DEFAULT_MAX_BATCH = 500;
const IDLE_POLL_MS = 1_000;
/** Most bytes of one partition in one fetch (about 2,500 sealed readings). */
const PARTITION_FETCH_BYTES = 1_048_576;
const MAX_RECONNECT_DELAY_MS = 5_000;
const MAX_REDELIVERY_DELAY_MS = 5_000;
/** How often a commit that stopped short at `keepFrom` is tried further on (at least). */
const HELD_BACK_RETRY_MS = 500;

/** Longest pause before an offset commit a rebalance turned away is sent again. */
const MAX_COMMIT_PAUSE_MS = 500;

export class KafkaSubscription {
  private consumer: Consumer | undefined;
  private stream: Stream | undefined;
  private closed = false;
  private loop: Promise<void> | undefined;
  private wakeUp = newSignal();
  private recovering: Promise<void> | undefined;
  /** Fetched and not yet handled, and which batch goes next. */
  private readonly scheduler: PartitionScheduler<KafkaMessage>;
  /** The batch being handled, per slot ("topic:partition", or the partition number when co-partitioned). */
  private readonly busy = new Map<string, Promise<void>>();
  /** Handled, not yet committed: the last message per "topic:partition", all in the next commit. */
  private readonly toCommit: LatestPerKey<KafkaMessage>;
  /** A handler threw: stop starting batches, then read again from the committed offsets. */
  private failed = false;
  private failures = 0;
  private readonly maxBatch: number;
  /** Partition numbers this member held at its last join (co-partitioned: offered to keep at the next). */
  private ownedNumbers: number[] = [];
  /** Partitions whose last commit stopped short at `keepFrom`: committed again, further, as it moves on. */
  private readonly heldBack = new Map<string, KafkaMessage>();
  private heldBackTimer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly options: SubscribeOptions,
    private readonly handler: BatchHandler,
    private readonly tuning: ConsumerTuning,
    private readonly log: Logger,
  ) {
    this.maxBatch = Math.max(1, options.maxBatch ?? DEFAULT_MAX_BATCH);
    this.scheduler = new PartitionScheduler({
      maxBatch: this.maxBatch,
      concurrency: Math.max(1, options.concurrency ?? 1),
      copartitioned: options.copartitioned,
      batchIntervalMs: options.batchIntervalMs,
    });
    this.toCommit = new LatestPerKey((lasts) => this.commit(lasts), options.commitIntervalMs ?? 0);
    if (options.keepFrom) {
      this.heldBackTimer = setInterval(() => this.commitHeldBack(), Math.max(HELD_BACK_RETRY_MS, options.commitIntervalMs ?? 0));
      this.heldBackTimer.unref?.();
    }
  }

  /** Puts the partitions whose commit stopped short up for the next commit (it asks keepFrom again). */
  private commitHeldBack(): void {
    for (const [key, m] of this.heldBack) {
      if (this.owns(m.topic, m.partition)) this.toCommit.put(key, m, later);
      else this.heldBack.delete(key);
    }
  }

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
    clearInterval(this.heldBackTimer);
    if (this.options.beforeLastCommit) {
      try {
        await this.options.beforeLastCommit();
      } catch (err) {
        this.log.warn("could not finish before the last offset commit", { group: this.options.groupId, err: describeKafkaError(err) });
      }
      this.commitHeldBack();
    }
    await this.toCommit.idle();
    await this.disconnect();
  }

  private async connect(): Promise<void> {
    const t = this.tuning;
    const consumer = new GroupConsumer({
      clientId: t.clientId,
      bootstrapBrokers: t.bootstrapBrokers,
      connectTimeout: t.connectTimeout,
      timeout: t.timeout,
      retries: t.retries,
      retryDelay: t.retryDelay,
      ...(t.tls && { tls: t.tls }),
      ...(t.sasl && { sasl: t.sasl }),
      groupId: this.options.groupId,
      sessionTimeout: t.sessionTimeoutMs,
      heartbeatInterval: t.heartbeatIntervalMs,
      rebalanceTimeout: t.sessionTimeoutMs + 5_000,
      heartbeatStallTimeout: t.sessionTimeoutMs,
      autocommit: false,
      maxWaitTime: IDLE_POLL_MS,
      // The client's default lets one fetch bring 50 MB of a single partition: under a backlog
      // that partition's run would come before any other's. Kafka's own default is 1 MiB.
      maxBytesPerPartition: PARTITION_FETCH_BYTES,
      highWaterMark: Math.max(DEFAULT_MAX_BATCH, this.maxBatch),
      ...(this.options.copartitioned ? copartitionGroupOptions(() => this.ownedNumbers) : {}),
    });
    consumer.on("consumer:group:join", (joined: { assignments?: GroupAssignment[] }) => {
      const assigned = joined.assignments ?? [];
      this.ownedNumbers = [...new Set(assigned.flatMap((a) => a.partitions))];
      this.options.onGroupJoin?.();
      (this.options.copartitioned ? this.log.info : this.log.debug).call(this.log, "kafka group joined", {
        group: this.options.groupId,
        partitions: assigned.map((a) => `${a.topic}:${a.partitions.join("+")}`).join(" "),
      });
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
      this.scheduler.clear(); // the new member reads again from the committed offsets
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
    const woken = this.wakeUp;
    this.wakeUp = newSignal();
    woken.resolve();
  }

  private async run(): Promise<void> {
    while (!this.closed) {
      if (this.failed) {
        // One partition's handler threw: the others finish their batch, then everything not
        // committed is read again; a handler that keeps failing (its database is down, say) is
        // retried less and less often.
        await Promise.all(this.busy.values());
        await this.toCommit.idle();
        this.scheduler.clear();
        this.failed = false;
        this.failures++;
        await this.restartFromCommitted();
        await sleep(Math.min(this.tuning.redeliveryDelayMs * 2 ** (this.failures - 1), MAX_REDELIVERY_DELAY_MS));
        continue;
      }
      this.fill();
      const heldBackMs = this.startBatches();
      const heldBack = heldBackMs === Infinity ? [] : [sleep(heldBackMs)];
      if (this.busy.size > 0) await Promise.race([this.wakeUp.promise, ...this.busy.values(), ...heldBack]);
      else if (this.scheduler.queued === 0)
        await Promise.race([this.wakeUp.promise, sleep(IDLE_POLL_MS)]); // a safety net: never wait on a lost wake-up
      else if (heldBack.length) await Promise.race([this.wakeUp.promise, ...heldBack]);
      else await sleep(0); // only refetched messages skipped: let I/O in before the next round
    }
    await Promise.all(this.busy.values()); // closing: the batches in hand finish and commit
  }

  /** Moves what the client has buffered into the partitions' queues, up to a bound. */
  private fill(): void {
    const stream = this.stream;
    if (!stream || this.recovering) return;
    let message: KafkaMessage | null;
    while (this.scheduler.hasRoom && (message = stream.read() as KafkaMessage | null) !== null) this.scheduler.add(message);
  }

  /** Starts the batches the scheduler picks; returns how soon a held-back partition may start (ms). */
  private startBatches(): number {
    const next = this.scheduler.next(new Set(this.busy.keys()), (topic, partition) => this.owns(topic, partition), performance.now());
    for (const batch of next.batches)
      this.busy.set(
        batch.slot,
        this.handle(batch).finally(() => this.busy.delete(batch.slot)),
      );
    return next.heldBackMs;
  }

  /** Hands one partition's batch to the handler and commits it; on failure, flags a restart. */
  private async handle({ key, messages: batch }: Batch<KafkaMessage>): Promise<void> {
    const { topic, partition } = batch[0]!;
    try {
      await this.handler(batch.map(toBusMessage));
    } catch (err) {
      this.log.warn("bus handler failed; the batch will be delivered again", {
        group: this.options.groupId,
        topic,
        partition,
        from_offset: String(batch[0]!.offset),
        count: batch.length,
        err: err instanceof Error ? err.message : String(err),
      });
      this.failed = true;
      this.scheduler.drop(key); // what came after it waits for the redelivery, in order
      return;
    }
    this.failures = 0;
    const last = batch[batch.length - 1]!;
    this.scheduler.markHandled(key, last.offset);
    // The partition's next batch may start while its offset travels to the broker. Commits go
    // one at a time, each with the latest offset of every partition handled since the last.
    this.toCommit.put(key, last, later);
  }

  private owns(topic: string, partition: number): boolean {
    return this.consumer?.assignments?.some((a) => a.topic === topic && a.partitions.includes(partition)) ?? false;
  }

  private async commit(lasts: KafkaMessage[]): Promise<void> {
    const consumer = this.consumer;
    const owned = lasts.filter((m) => this.owns(m.topic, m.partition));
    if (!consumer || owned.length === 0) return;
    const offsets = owned.map((m) => {
      const end = m.offset + 1n;
      const keep = this.options.keepFrom?.(m.topic, m.partition);
      const short = keep !== undefined && keep < end;
      if (short) this.heldBack.set(partitionKey(m), m);
      else this.heldBack.delete(partitionKey(m));
      return { topic: m.topic, partition: m.partition, offset: short ? keep : end, leaderEpoch: m.leaderEpoch };
    });
    try {
      await withDeadline(consumer.commit({ offsets }), this.tuning.startTimeoutMs, () => new Error("offset commit timed out"));
    } catch (err) {
      if (err instanceof StaleCommitError && !this.closed && this.consumer === consumer) {
        // A rebalance is under way: the heartbeat rejoins, and these offsets go with the next
        // commit after it (those of partitions this member no longer owns are left out then).
        this.log.debug("offset commit met a rebalance; sending it again after it", { group: this.options.groupId, reason: err.message });
        await sleep(Math.min(this.tuning.heartbeatIntervalMs, MAX_COMMIT_PAUSE_MS));
        for (const m of owned) this.toCommit.put(partitionKey(m), m, later);
        return;
      }
      // Not fatal: the messages were handled; whoever reads the partitions next sees them again.
      this.log.warn("offset commit failed; these messages may be delivered again", {
        group: this.options.groupId,
        partitions: owned.map(partitionKey).join(","),
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

/** Of two messages of one partition waiting to be committed, the one further on. */
function later(waiting: KafkaMessage, next: KafkaMessage): KafkaMessage {
  return next.offset >= waiting.offset ? next : waiting;
}

function newSignal(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
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
