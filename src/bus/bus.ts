/**
 * The message bus every role talks through. Two adapters implement it: Kafka
 * (@platformatic/kafka, `KAFKA_BROKERS`) and an in-process bus for `evnet up`. Both deliver
 * messages in order per key and at least once: a handler that throws is retried, and offsets
 * are committed only after the handler resolved.
 */
import { EXIT, KnownError } from "../lib/errors.ts";
export interface BusMessage {
  topic: string;
  key: string;
  value: Uint8Array;
  headers?: Record<string, string>;
  partition?: number;
  offset?: bigint;
  timestamp?: number;
}

export interface OutgoingMessage {
  key: string;
  value: Uint8Array | string;
  headers?: Record<string, string>;
}

/** A message with the topic it goes to (publishAll). */
export type TopicMessage = { topic: string } & OutgoingMessage;

export interface SubscribeOptions {
  topics: string[];
  /** Consumers sharing a group split the partitions (and so the keys) between them. */
  groupId: string;
  /** Where a group with no committed offset starts: `earliest` (default) or `latest`. */
  from?: "earliest" | "latest";
  /**
   * How many partitions' batches may be in the handler at once (default 1; each partition is
   * still handled one batch at a time, in order). The in-process bus always overlaps partitions.
   */
  concurrency?: number;
  /** Most messages in one batch (default 500). */
  maxBatch?: number;
  /**
   * The topics are keyed alike (same keys, same partition count): batches of one partition
   * number are never in the handler at once, whatever their topic, so one key's messages on
   * different topics never race each other.
   */
  copartitioned?: boolean;
  /**
   * A partition's next batch starts at least this long (ms) after its previous one started,
   * unless a full batch is waiting: under light load, fewer and fuller batches (for Central, one
   * database transaction each) for at most this much more latency. Default 0; the in-process
   * bus does not use it.
   */
  batchIntervalMs?: number;
  /**
   * Handled offsets go to the broker at most once per this many ms (default 0: one commit at a
   * time, each as soon as the one before it is answered), all partitions' latest in one. For a
   * subscriber that keeps its own record of what it applied (Central's offsets in its database):
   * far fewer commits, for at most this much more to read again (and skip) after a restart or a
   * rebalance, and a group lag that shows up to this much more. The in-process bus does not use it.
   */
  commitIntervalMs?: number;
  /**
   * The earliest offset of a partition the subscriber needs to read again after a restart or a
   * rebalance (it handled what lies there, but has not made it durable yet): offset commits go
   * no further, and follow it as it moves on. Undefined: all that was handled may be committed.
   * The in-process bus, which reads nothing again, does not use it.
   */
  keepFrom?: (topic: string, partition: number) => bigint | undefined;
  /** Called as the subscription closes, after its last batch and before its last offset commit. */
  beforeLastCommit?: () => Promise<void>;
  /**
   * Called each time this member has joined its consumer group: once when it starts, then once
   * per rebalance (Kafka; the in-process bus has no group and never calls it).
   */
  onGroupJoin?: () => void;
}

/** Called with the messages of one partition batch, in order; resolve to commit them. */
export type BatchHandler = (messages: BusMessage[]) => Promise<void>;

export interface Subscription {
  close(): Promise<void>;
}

export interface Bus {
  readonly kind: "kafka" | "memory";
  publish(topic: string, messages: OutgoingMessage[]): Promise<void>;
  /**
   * Publishes messages bound for several topics in one call (on Kafka, one request to the
   * broker): the messages of each topic keep their order; there is no order between topics.
   * It succeeds or fails as a whole: on failure, some may have been published all the same.
   */
  publishAll(messages: TopicMessage[]): Promise<void>;
  subscribe(options: SubscribeOptions, handler: BatchHandler): Promise<Subscription>;
  /** Creates topics that do not exist yet (Kafka); a no-op in memory. */
  ensureTopics(topics: string[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * A crashed Central's CPs wait about this long (plus a rebalance) for another to take them over.
 * 6 s is the smallest a stock broker accepts (group.min.session.timeout.ms) and still six missed
 * heartbeats before a member that is only slow (a GC pause, a loaded machine) is taken for dead
 * (measured, with the trade-off, in docs/failover.md).
 */
export const DEFAULT_SESSION_TIMEOUT_MS = 6_000;

export const textEncoder = new TextEncoder();
export const textDecoder = new TextDecoder();

export function toBytes(value: Uint8Array | string): Uint8Array {
  return typeof value === "string" ? textEncoder.encode(value) : value;
}

/**
 * The bus could not do what was asked (broker unreachable, timed out, closed). Publishers catch
 * it to buffer and retry; its message names the brokers and the cause.
 */
export class BusError extends KnownError {
  override name = "BusError";
  constructor(
    readonly code: "unavailable" | "timeout" | "closed",
    message: string,
    options?: { cause?: unknown; hint?: string },
  ) {
    super(message, { ...options, exitCode: EXIT.unavailable });
  }
}
