/**
 * Replay protection that survives restarts: the highest sequence number accepted from each
 * sender under each key (`message_sequences`).
 */
import { and, eq, type SQL, sql } from "drizzle-orm";
import { sequencePairKey } from "../../crypto/envelope.ts";
import { type Db, jsonRows, keyList, rowsOf } from "../client.ts";
import { messageSequences } from "../schema/index.ts";

export async function lastAcceptedSequence(db: Db, keyId: string, sender: string): Promise<number | undefined> {
  const [row] = await db
    .select({ lastSeq: messageSequences.lastSeq })
    .from(messageSequences)
    .where(and(eq(messageSequences.keyId, keyId), eq(messageSequences.sender, sender)));
  return row?.lastSeq;
}

/**
 * Records `seq` as accepted if it is greater than the last one. Returns false when it is not
 * (another delivery of the same or a later message got there first): the caller applies nothing.
 */
export async function acceptSequence(db: Db, keyId: string, sender: string, seq: number): Promise<boolean> {
  const rows = await db
    .insert(messageSequences)
    .values({ keyId, sender, lastSeq: seq, updatedAt: new Date() })
    .onConflictDoUpdate({
      target: [messageSequences.keyId, messageSequences.sender],
      set: { lastSeq: seq, updatedAt: new Date() },
      setWhere: sql`${messageSequences.lastSeq} < ${seq}`,
    })
    .returning({ keyId: messageSequences.keyId });
  return rows.length > 0;
}

export interface SequenceKey {
  keyId: string;
  sender: string;
}

/** The last accepted sequence of several (key, sender) pairs in one query; map key: `sequencePairKey`. */
export async function lastAcceptedSequences(db: Db, pairs: SequenceKey[]): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  if (pairs.length === 0) return found;
  // The pairs as one JSON parameter rather than a list of tuples: one statement text (prepared
  // once) whatever the number of pairs.
  const rows = rowsOf<{ key_id: string; sender: string; last_seq: string | number }>(await db.execute(lastAcceptedQuery(pairs)));
  for (const r of rows) found.set(sequencePairKey(r.key_id, r.sender), Number(r.last_seq));
  return found;
}

/** The query of lastAcceptedSequences: the pairs as one JSON parameter, the rows looked up by their keys' ids (keyList). */
export function lastAcceptedQuery(pairs: SequenceKey[]): SQL {
  return sql`
    select m.key_id, m.sender, m.last_seq from ${messageSequences} m
      join json_to_recordset(${jsonRows(pairs.map((p) => ({ k: p.keyId, s: p.sender })))}::json) as v(k text, s text)
        on m.key_id = v.k and m.sender = v.s
     where m.key_id = any(${keyList([...new Set(pairs.map((p) => p.keyId))])})`;
}

/**
 * Records a batch of accepted sequences in two statements (lock the rows, upsert the highest
 * per pair). Returns, per message, whether its sequence was still new: false means a copy was
 * accepted first, and the caller applies nothing for it.
 */
export async function acceptSequences(db: Db, messages: (SequenceKey & { seq: number })[]): Promise<boolean[]> {
  if (messages.length === 0) return [];
  const pairs = new Map<string, SequenceKey & { seq: number }>();
  for (const m of messages) {
    const k = sequencePairKey(m.keyId, m.sender);
    const seen = pairs.get(k);
    if (!seen || seen.seq < m.seq) pairs.set(k, { keyId: m.keyId, sender: m.sender, seq: m.seq });
  }
  const tuples = sql.join(
    [...pairs.values()].map((p) => sql`(${p.keyId}, ${p.sender})`),
    sql`, `,
  );
  const locked = await db
    .select({ keyId: messageSequences.keyId, sender: messageSequences.sender, lastSeq: messageSequences.lastSeq })
    .from(messageSequences)
    .where(sql`(${messageSequences.keyId}, ${messageSequences.sender}) in (${tuples})`)
    .for("update");
  const stored = new Map(locked.map((r) => [sequencePairKey(r.keyId, r.sender), r.lastSeq]));
  const highest = new Map(stored);
  const verdicts = messages.map((m) => {
    const k = sequencePairKey(m.keyId, m.sender);
    const last = highest.get(k);
    if (last !== undefined && m.seq <= last) return false;
    highest.set(k, m.seq);
    return true;
  });
  const now = new Date();
  await db
    .insert(messageSequences)
    .values([...pairs.values()].map((p) => ({ keyId: p.keyId, sender: p.sender, lastSeq: p.seq, updatedAt: now })))
    .onConflictDoUpdate({
      target: [messageSequences.keyId, messageSequences.sender],
      set: { lastSeq: sql`greatest(${messageSequences.lastSeq}, excluded.last_seq)`, updatedAt: now },
    });
  return verdicts;
}
