/**
 * `dead_letters`: messages a consumer set aside. Written in the transaction that moves the
 * partition past them; read, and marked for replay, by operators.
 */
import { and, desc, eq, inArray, isNull, lt, sql } from "drizzle-orm";
import { type Db, keyList, partsOf } from "../client.ts";
import { type DeadLetterRow, deadLetters } from "../schema/index.ts";

export type NewDeadLetter = typeof deadLetters.$inferInsert;

export const DEAD_LETTER_STATUSES = ["set_aside", "replaying", "replayed", "replay_failed"] as const;
export type DeadLetterStatus = (typeof DEAD_LETTER_STATUSES)[number];

export async function insertDeadLetters(db: Db, rows: NewDeadLetter[]): Promise<DeadLetterRow[]> {
  if (rows.length === 0) return [];
  const parts = await Promise.all(partsOf(rows).map((part) => db.insert(deadLetters).values(part).returning()));
  return parts.flat();
}

export async function findDeadLetter(db: Db, id: number): Promise<DeadLetterRow | undefined> {
  const [row] = await db.select().from(deadLetters).where(eq(deadLetters.id, id));
  return row;
}

export interface DeadLetterFilter {
  status?: DeadLetterStatus;
  topic?: string;
  limit: number;
  /** Only rows older than this id (the previous page's last). */
  beforeId?: number;
}

/** Newest first. */
export async function listDeadLetters(db: Db, filter: DeadLetterFilter): Promise<DeadLetterRow[]> {
  return db
    .select()
    .from(deadLetters)
    .where(
      and(
        filter.status ? eq(deadLetters.status, filter.status) : undefined,
        filter.topic ? eq(deadLetters.topic, filter.topic) : undefined,
        filter.beforeId !== undefined ? lt(deadLetters.id, filter.beforeId) : undefined,
      ),
    )
    .orderBy(desc(deadLetters.id))
    .limit(filter.limit);
}

/** An operator asked for a replay: only a letter not replayed already may be. False: it may not (now). */
export async function markReplaying(db: Db, id: number, by: string): Promise<DeadLetterRow | undefined> {
  const [row] = await db
    .update(deadLetters)
    .set({ status: "replaying", replayRequestedAt: sql`now()`, replayRequestedBy: by, replaySentAt: null })
    .where(and(eq(deadLetters.id, id), inArray(deadLetters.status, ["set_aside", "replay_failed", "replaying"])))
    .returning();
  return row;
}

/**
 * The consumer applies a replayed letter: claims it in the applying transaction, once. False:
 * nobody asked for this replay, or it was applied already.
 */
export async function claimReplay(db: Db, id: number): Promise<boolean> {
  const rows = await db
    .update(deadLetters)
    .set({ status: "replayed", replayedAt: sql`now()` })
    .where(and(eq(deadLetters.id, id), eq(deadLetters.status, "replaying")))
    .returning({ id: deadLetters.id });
  return rows.length > 0;
}

/**
 * Sends the replays operators asked for back to their topics with `send`, in one transaction
 * that locks them (two Centrals sweeping at once send each once), and marks them sent.
 */
export async function sendRequestedReplays(db: Db, limit: number, send: (rows: DeadLetterRow[]) => Promise<void>): Promise<number> {
  return db.transaction(async (tx) => {
    const due = await tx
      .select()
      .from(deadLetters)
      .where(and(eq(deadLetters.status, "replaying"), isNull(deadLetters.replaySentAt)))
      .orderBy(deadLetters.id)
      .limit(limit)
      .for("update", { skipLocked: true });
    if (due.length === 0) return 0;
    await send(due);
    await tx
      .update(deadLetters)
      .set({ replaySentAt: sql`now()` })
      .where(
        sql`${deadLetters.id} = any(${keyList(
          due.map((r) => r.id),
          "bigint",
        )})`,
      );
    return due.length;
  });
}

/** A replay failed again (it is set aside anew, pointing back at this one). */
export async function markReplayFailed(db: Db, id: number): Promise<void> {
  await db.update(deadLetters).set({ status: "replay_failed" }).where(eq(deadLetters.id, id));
}

/** Letters not copied to the topic yet, set aside at least `olderThanS` ago (younger ones are on their way). */
export async function unpublishedDeadLetters(db: Db, limit: number, olderThanS: number): Promise<DeadLetterRow[]> {
  return db
    .select()
    .from(deadLetters)
    .where(and(isNull(deadLetters.publishedAt), lt(deadLetters.setAsideAt, sql`now() - make_interval(secs => ${olderThanS}::float8)`)))
    .orderBy(deadLetters.id)
    .limit(limit);
}

export async function markPublished(db: Db, ids: number[]): Promise<void> {
  if (ids.length === 0) return;
  await db
    .update(deadLetters)
    .set({ publishedAt: sql`now()` })
    .where(sql`${deadLetters.id} = any(${keyList(ids, "bigint")})`);
}
