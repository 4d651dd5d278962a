/**
 * Applied-offset bookkeeping (bus_offsets): the next offset of each partition Central has not
 * applied, advanced in the transaction that applies a batch. Locking the partition's row first
 * makes two deliveries of one batch (a rebalance mid-batch, a crash before the bus commit) apply
 * one after the other, the second finding nothing left to do.
 *
 * What this instance committed last is kept per partition, with the last accepted sequence of
 * each sender it saw there. While the partition's applied offset is still the one committed,
 * nobody else has accepted anything from those senders (a CP's messages all travel on its
 * partition), so the next batch need not read them again; the transaction's offset check
 * catches a partition applied elsewhere meanwhile, and then they are read afresh.
 */
import { and, eq, sql } from "drizzle-orm";
import type { Db } from "../../db/client.ts";
import { busOffsets } from "../../db/schema/index.ts";

export interface PartitionRef {
  group: string;
  topic: string;
  partition: number;
}

const key = (p: PartitionRef) => `${p.topic}/${p.partition}`;

/** Keys replaced over the months leave their senders behind: a partition's are dropped past this. */
const MAX_SENDERS_PER_PARTITION = 100_000;

export class AppliedOffsets {
  /** What this instance last committed, to skip known redeliveries before decrypting them. */
  private known = new Map<string, { next: bigint; sequences: Map<string, number> }>();

  /** The next unapplied offset as last seen (no lock): a cheap first filter. */
  async peek(db: Db, p: PartitionRef): Promise<bigint> {
    const cached = this.known.get(key(p))?.next;
    if (cached !== undefined) return cached;
    const [row] = await db
      .select({ next: busOffsets.nextOffset })
      .from(busOffsets)
      .where(and(eq(busOffsets.groupId, p.group), eq(busOffsets.topic, p.topic), eq(busOffsets.partition, p.partition)));
    return row?.next ?? 0n;
  }

  /** Locks the partition's row for this transaction and returns its next unapplied offset. */
  async lock(tx: Db, p: PartitionRef): Promise<bigint> {
    const [row] = await tx
      .insert(busOffsets)
      .values({ groupId: p.group, topic: p.topic, partition: p.partition, nextOffset: 0n })
      .onConflictDoUpdate({ target: [busOffsets.groupId, busOffsets.topic, busOffsets.partition], set: { updatedAt: sql`now()` } })
      .returning({ next: busOffsets.nextOffset });
    return row!.next;
  }

  async advance(tx: Db, p: PartitionRef, next: bigint): Promise<void> {
    await tx
      .update(busOffsets)
      .set({ nextOffset: next, updatedAt: sql`now()` })
      .where(and(eq(busOffsets.groupId, p.group), eq(busOffsets.topic, p.topic), eq(busOffsets.partition, p.partition)));
  }

  /**
   * The senders' last accepted sequences (by `sequencePairKey`) to open the partition's batch
   * from `next` with: those kept at the last commit if that left the partition at `next`, else
   * an empty map (the channel reads and fills it).
   */
  sequencesAt(p: PartitionRef, next: bigint): Map<string, number> {
    const entry = this.known.get(key(p));
    return entry && entry.next === next ? entry.sequences : new Map();
  }

  /** After the commit: the partition is applied up to `next`, with these sequences accepted. */
  remember(p: PartitionRef, next: bigint, sequences: Map<string, number>): void {
    if (sequences.size > MAX_SENDERS_PER_PARTITION) sequences.clear();
    this.known.set(key(p), { next, sequences });
  }

  /** Another instance may have applied more since (the partition moved away and back). */
  forget(p: PartitionRef): void {
    this.known.delete(key(p));
  }
}
