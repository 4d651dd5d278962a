/**
 * Which batches a consumer-group member hands to its handler next, and when: the pure part of
 * a Kafka subscription (src/bus/kafka/subscription.ts), with no client and no clock of its own,
 * so it is tested without a broker.
 *
 * Fetched messages wait in one queue per partition, in offset order. A batch is up to `maxBatch`
 * messages of one partition; a partition (a "slot": the partition number across topics when
 * they are co-partitioned) has at most one batch in hand, and at most `concurrency` batches are
 * in hand at once. With `batchIntervalMs`, a slot starts a batch at most that often unless a
 * full batch is waiting, so that small batches gather into larger ones. Messages fetched again
 * (after a restart or a rebalance) below what was handled are skipped, and a partition this
 * member no longer owns is dropped: its new owner reads it.
 */

/** What the scheduler needs to know of a message. */
export interface Positioned {
  topic: string;
  partition: number;
  offset: bigint;
}

export interface SchedulerOptions {
  maxBatch: number;
  concurrency: number;
  /** One slot per partition number across the topics (their keys meet on the same partition). */
  copartitioned?: boolean;
  batchIntervalMs?: number;
}

export interface Batch<M> {
  /** The partition, "topic:partition". */
  key: string;
  /** What it holds while in hand (see `copartitioned`). */
  slot: string;
  messages: M[];
}

export interface NextBatches<M> {
  batches: Batch<M>[];
  /** How soon a partition held back by `batchIntervalMs` may start (ms); Infinity when none was. */
  heldBackMs: number;
}

/** How far past its bound the queue reads to find the messages of partitions not waiting yet. */
const BEYOND_BOUND_FOR_OTHER_PARTITIONS = 4;

/** A partition's queue key, "topic:partition": batches and commits are kept by it. */
export function partitionKey(m: Pick<Positioned, "topic" | "partition">): string {
  return `${m.topic}:${m.partition}`;
}

export class PartitionScheduler<M extends Positioned> {
  private readonly queues = new Map<string, M[]>();
  /** Next offset to handle per partition: messages fetched again below it were handled already. */
  private readonly handled = new Map<string, bigint>();
  /** When the last batch of each slot started (`batchIntervalMs`). */
  private readonly startedAt = new Map<string, number>();
  private count = 0;
  /** The queue the last message went to: a fetch brings each partition's messages in one run. */
  private lastQueue: { topic: string; partition: number; queue: M[] } | undefined;

  constructor(private readonly options: SchedulerOptions) {}

  /** Messages waiting. */
  get queued(): number {
    return this.count;
  }

  /**
   * Whether to read more from the client: until enough waits for every slot in hand and the
   * next, and beyond that (up to a few times as much) while fewer partitions than slots have
   * messages waiting. A fetch brings each partition's messages in one run: under a backlog the
   * first partition's could otherwise fill the bound alone and leave every other partition (and
   * every other slot) waiting behind it, one batch at a time.
   */
  get hasRoom(): boolean {
    const bound = this.options.maxBatch * (this.options.concurrency + 1);
    if (this.count < bound) return true;
    return this.queues.size <= this.options.concurrency && this.count < bound * BEYOND_BOUND_FOR_OTHER_PARTITIONS;
  }

  add(message: M): void {
    const last = this.lastQueue;
    let queue = last && last.partition === message.partition && last.topic === message.topic ? last.queue : undefined;
    if (!queue) {
      const key = partitionKey(message);
      queue = this.queues.get(key);
      if (!queue) this.queues.set(key, (queue = []));
      this.lastQueue = { topic: message.topic, partition: message.partition, queue };
    }
    queue.push(message);
    this.count++;
  }

  /** Forgets every waiting message: they will be fetched again from the committed offsets. */
  clear(): void {
    this.queues.clear();
    this.lastQueue = undefined;
    this.count = 0;
  }

  /** Forgets one partition's waiting messages (its batch failed: they come again after it, in order). */
  drop(key: string): void {
    this.count -= this.queues.get(key)?.length ?? 0;
    this.forget(key);
  }

  /** Removes a partition's queue (the last one added to, should it be that one). */
  private forget(key: string): void {
    if (this.lastQueue && this.queues.get(key) === this.lastQueue.queue) this.lastQueue = undefined;
    this.queues.delete(key);
  }

  /** A batch of `key` was handled up to `lastOffset`: what is fetched again up to there is skipped. */
  markHandled(key: string, lastOffset: bigint): void {
    this.handled.set(key, lastOffset + 1n);
  }

  /**
   * The batches to start now, given the slots already in hand and whether this member still owns
   * a partition. `now` is a monotonic time in milliseconds.
   */
  next(inHand: ReadonlySet<string>, owns: (topic: string, partition: number) => boolean, now: number): NextBatches<M> {
    const { maxBatch, concurrency, copartitioned, batchIntervalMs = 0 } = this.options;
    const busy = new Set(inHand);
    const batches: Batch<M>[] = [];
    let heldBackMs = Infinity;
    for (const [key, queue] of this.queues) {
      if (busy.size >= concurrency) break;
      const first = queue[0];
      if (!first || !owns(first.topic, first.partition)) {
        this.drop(key); // revoked by a rebalance: its new owner reads it
        continue;
      }
      const slot = copartitioned ? `#${first.partition}` : key;
      if (busy.has(slot)) continue;
      if (batchIntervalMs > 0) {
        const wait = (this.startedAt.get(slot) ?? -Infinity) + batchIntervalMs - now;
        if (wait > 0 && queue.length < maxBatch) {
          heldBackMs = Math.min(heldBackMs, wait);
          continue;
        }
        this.startedAt.set(slot, now);
      }
      const taken = queue.splice(0, maxBatch);
      this.count -= taken.length;
      if (queue.length === 0) this.forget(key);
      const fresh = this.unhandled(key, taken);
      if (fresh.length === 0) continue;
      busy.add(slot);
      batches.push({ key, slot, messages: fresh });
    }
    return { batches, heldBackMs };
  }

  /** The messages not handled before, keeping offsets strictly rising within the batch. */
  private unhandled(key: string, taken: M[]): M[] {
    const next = this.handled.get(key);
    let last = next === undefined ? -2n : next - 1n; // offsets start at 0 (-1: never handled)
    const fresh: M[] = [];
    for (const m of taken)
      if (m.offset > last) {
        fresh.push(m);
        last = m.offset;
      }
    return fresh;
  }
}
