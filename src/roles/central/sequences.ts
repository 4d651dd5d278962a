/**
 * Replay protection for a batch of opened envelopes: within the batch each sender's sequence
 * must rise (two copies of one message in one batch apply once), and the highest accepted
 * sequence per (key, sender) is stored with one upsert in the batch's transaction
 * (message_sequences, which the channel reads when it opens the next ones).
 */
import { sql } from "drizzle-orm";
import type { EnvelopeHeader } from "../../crypto/envelope.ts";
import { type Db, jsonRows, rowsOf } from "../../db/client.ts";
import { sequencePairKey } from "../../db/repos/message-sequences.ts";
import { messageSequences } from "../../db/schema/index.ts";

export class BatchSequences {
  private highest = new Map<string, { kid: string; sender: string; seq: number }>();

  /** False for a sequence not above one already taken in this batch. */
  take(h: EnvelopeHeader): boolean {
    const k = sequencePairKey(h.kid, h.sender);
    const prev = this.highest.get(k);
    if (prev && prev.seq >= h.seq) return false;
    this.highest.set(k, { kid: h.kid, sender: h.sender, seq: h.seq });
    return true;
  }

  async persist(tx: Db): Promise<void> {
    if (this.highest.size === 0) return;
    // Sorted, so that two transactions touching the same rows (a partition handed over
    // mid-batch) lock them in the same order.
    const rows = [...this.highest.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => ({ k: r.kid, s: r.sender, q: r.seq }));
    // Nearly always every pair has its row already: a plain update costs PostgreSQL less than
    // half of an upsert. Pairs it did not move (new, or already further on) get the upsert.
    const moved = rowsOf<{ k: string; s: string }>(
      await tx.execute(sql`
        update ${messageSequences} as m set last_seq = v.q, updated_at = now()
          from json_to_recordset(${jsonRows(rows)}::json) as v(k text, s text, q bigint)
         where m.key_id = v.k and m.sender = v.s and m.last_seq < v.q
        returning m.key_id as k, m.sender as s`),
    );
    if (moved.length === rows.length) return;
    const done = new Set(moved.map((r) => sequencePairKey(r.k, r.s)));
    const rest = rows.filter((r) => !done.has(sequencePairKey(r.k, r.s)));
    await tx.execute(sql`
      insert into ${messageSequences} (key_id, sender, last_seq, updated_at)
      select k, s, q, now() from json_to_recordset(${jsonRows(rest)}::json) as v(k text, s text, q bigint)
      on conflict (key_id, sender) do update set last_seq = greatest(${messageSequences.lastSeq}, excluded.last_seq), updated_at = now()`);
  }
}
