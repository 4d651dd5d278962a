/**
 * Replay protection for a batch of opened envelopes: within the batch each sender's sequence
 * must rise (two copies of one message in one batch apply once), and the highest accepted
 * sequence per (key, sender) is stored with one upsert in the batch's transaction
 * (message_sequences, which the channel reads when it opens the next ones).
 *
 * A sender whose messages in the batch are all telemetry readings or heartbeats is not stored:
 * the row each of them updates anyway keeps its sequence (a session's last_telemetry_seq, a
 * CP's last_heartbeat_seq) and takes no reading or heartbeat that is not after it (cp-events.ts
 * refuses and audits such a message as replayed). That saves a row version per reading and per
 * heartbeat. While Central runs, the sequences it accepted are also kept in memory
 * (AppliedOffsets), so a replay is refused when its envelope is opened; after a restart or a
 * handover, a replayed reading or heartbeat is refused by its row, and any other replayed
 * message by this table (a sender's other messages are stored, and the sequences of its later
 * readings and heartbeats come after them).
 */
import { type SQL, sql } from "drizzle-orm";
import { type EnvelopeHeader, sequencePairKey } from "../../crypto/envelope.ts";
import { type Db, jsonRows, keyList, rowsOf } from "../../db/client.ts";
import { messageSequences } from "../../db/schema/index.ts";

export class BatchSequences {
  private highest = new Map<string, { kid: string; sender: string; seq: number; rowGuarded: boolean }>();

  /**
   * False for a sequence not above one already taken in this batch. `pair`: the header's key and
   * sender, as `sequencePairKey` names them (named once, when the envelope's header was read).
   * `rowGuarded`: a telemetry reading or a heartbeat, which the row it updates guards (see above).
   */
  take(h: EnvelopeHeader, pair: string, rowGuarded = false): boolean {
    const prev = this.highest.get(pair);
    if (prev && prev.seq >= h.seq) return false;
    this.highest.set(pair, { kid: h.kid, sender: h.sender, seq: h.seq, rowGuarded: rowGuarded && (prev?.rowGuarded ?? true) });
    return true;
  }

  async persist(tx: Db): Promise<void> {
    // Sorted, so that two transactions touching the same rows (a partition handed over
    // mid-batch) lock them in the same order.
    const rows = [...this.highest.entries()]
      .filter(([, r]) => !r.rowGuarded)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, r]) => ({ k: r.kid, s: r.sender, q: r.seq }));
    if (rows.length === 0) return;
    // Nearly always every pair has its row already: a plain update costs PostgreSQL less than
    // half of an upsert. Pairs it did not move (new, or already further on) get the upsert.
    const moved = rowsOf<{ k: string; s: string }>(await tx.execute(sequencesUpdate(rows)));
    if (moved.length === rows.length) return;
    const done = new Set(moved.map((r) => sequencePairKey(r.k, r.s)));
    const rest = rows.filter((r) => !done.has(sequencePairKey(r.k, r.s)));
    await tx.execute(sql`
      insert into ${messageSequences} (key_id, sender, last_seq, updated_at)
      select k, s, q, now() from json_to_recordset(${jsonRows(rest)}::json) as v(k text, s text, q bigint)
      on conflict (key_id, sender) do update set last_seq = greatest(${messageSequences.lastSeq}, excluded.last_seq), updated_at = now()`);
  }
}

/** The sequences' update: the highest of each (key, sender) pair that moved on, the rows looked up by their keys' ids. */
export function sequencesUpdate(rows: { k: string; s: string; q: number }[]): SQL {
  return sql`
    update ${messageSequences} as m set last_seq = v.q, updated_at = now()
      from json_to_recordset(${jsonRows(rows)}::json) as v(k text, s text, q bigint)
     where m.key_id = any(${keyList([...new Set(rows.map((r) => r.k))])}) and m.key_id = v.k and m.sender = v.s and m.last_seq < v.q
    returning m.key_id as k, m.sender as s`;
}
