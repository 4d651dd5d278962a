/**
 * Applied-offset bookkeeping (bus_offsets): the next offset of each partition Central has not
 * applied, advanced in the transaction that applies a batch. Locking the partition's row first
 * makes two deliveries of one batch (a rebalance mid-batch, a crash before the bus commit) apply
 * one after the other, the second finding nothing left to do.
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

export class AppliedOffsets {
  /** What this instance last committed, to skip known redeliveries before decrypting them. */
  private known = new Map<string, bigint>();

  /** The next unapplied offset as last seen (no lock): a cheap first filter. */
  async peek(db: Db, p: PartitionRef): Promise<bigint> {
    const cached = this.known.get(key(p));
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

  /** After the commit. */
  remember(p: PartitionRef, next: bigint): void {
    this.known.set(key(p), next);
  }

  /** Another instance may have applied more since (the partition moved away and back). */
  forget(p: PartitionRef): void {
    this.known.delete(key(p));
  }
}
