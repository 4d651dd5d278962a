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
import { type Db, jsonRows, rowsOf } from "../../db/client.ts";
import { busOffsets } from "../../db/schema/index.ts";

export interface PartitionRef {
  group: string;
  topic: string;
  partition: number;
}

const key = (p: PartitionRef) => `${p.topic}/${p.partition}`;

/** Keys replaced over the months leave their senders behind: a partition's are dropped past this. */
const MAX_SENDERS_PER_PARTITION = 100_000;

/** The partition's next unapplied offset as its row says (0 without one). */
async function stored(db: Db, p: PartitionRef): Promise<bigint> {
  const [row] = await db
    .select({ next: busOffsets.nextOffset })
    .from(busOffsets)
    .where(and(eq(busOffsets.groupId, p.group), eq(busOffsets.topic, p.topic), eq(busOffsets.partition, p.partition)));
  return row?.next ?? 0n;
}

/**
 * Claims several partitions' offsets in one statement (a group of batches applied together): each
 * row advanced from its `from` to its `to` when it is still at `from`, or made at `to` when there
 * is none and `from` is 0. False when any was not (another instance moved it on meanwhile): the
 * caller undoes the transaction and applies each batch alone, where `AppliedOffsets.claim` tells
 * which. The rows are locked in the order the plan meets them (the claims' order, for a handful
 * of rows looked up by key); should two instances grouping the same partitions during a handover
 * deadlock, PostgreSQL breaks it and the batches are applied alone.
 */
export async function claimOffsets(tx: Db, claims: { p: PartitionRef; from: bigint; to: bigint }[]): Promise<boolean> {
  const rows = claims.map((c) => ({ g: c.p.group, t: c.p.topic, p: c.p.partition, f: c.from.toString(), n: c.to.toString() }));
  const [row] = rowsOf<{ n: string | number }>(
    await tx.execute(sql`
      with v as (select * from json_to_recordset(${jsonRows(rows)}::json) as v(g text, t text, p int, f bigint, n bigint)),
      advanced as (
        update ${busOffsets} as b set next_offset = v.n, updated_at = now() from v
         where b.group_id = v.g and b.topic = v.t and b.partition = v.p and b.next_offset = v.f
        returning 1),
      made as (
        insert into ${busOffsets} (group_id, topic, partition, next_offset)
        select v.g, v.t, v.p, v.n from v
         where v.f = 0 and not exists (select 1 from ${busOffsets} as b where b.group_id = v.g and b.topic = v.t and b.partition = v.p)
        on conflict do nothing
        returning 1)
      select (select count(*) from advanced) + (select count(*) from made) as n`),
  );
  return Number(row?.n ?? 0) === claims.length;
}

export class AppliedOffsets {
  /** What this instance last committed, to skip known redeliveries before decrypting them. */
  private known = new Map<string, { next: bigint; sequences: Map<string, number> }>();

  /** The next unapplied offset as last seen (no lock): a cheap first filter. */
  async peek(db: Db, p: PartitionRef): Promise<bigint> {
    return this.known.get(key(p))?.next ?? stored(db, p);
  }

  /**
   * Locks the partition's row for this transaction and advances it from `from` to `to`, in one
   * statement. Returns the partition's next unapplied offset when it was not `from` (another
   * instance applied it meanwhile): nothing was changed, and the caller undoes the transaction.
   */
  async claim(tx: Db, p: PartitionRef, from: bigint, to: bigint): Promise<bigint | undefined> {
    // The row is locked whether or not the update's condition holds; (xmax = 0): it was inserted.
    const [row] = rowsOf<{ inserted: boolean }>(
      await tx.execute(sql`
        insert into ${busOffsets} as b (group_id, topic, partition, next_offset) values (${p.group}, ${p.topic}, ${p.partition}, ${to.toString()}::bigint)
        on conflict (group_id, topic, partition) do update set next_offset = excluded.next_offset, updated_at = now()
         where b.next_offset = ${from.toString()}::bigint
        returning (b.xmax = 0) as inserted`),
    );
    if (row) return row.inserted && from !== 0n ? 0n : undefined;
    return stored(tx, p);
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
