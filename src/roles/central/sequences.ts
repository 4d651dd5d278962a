/**
 * Replay protection for a batch of opened envelopes: within the batch each sender's sequence
 * must rise (two copies of one message in one batch apply once), and the highest accepted
 * sequence per (key, sender) is stored with one upsert in the batch's transaction
 * (message_sequences, which the channel reads when it opens the next ones).
 */
import { sql } from "drizzle-orm";
import type { EnvelopeHeader } from "../../crypto/envelope.ts";
import type { Db } from "../../db/client.ts";
import { messageSequences } from "../../db/schema/index.ts";

export class BatchSequences {
  private highest = new Map<string, { kid: string; sender: string; seq: number }>();

  /** False for a sequence not above one already taken in this batch. */
  take(h: EnvelopeHeader): boolean {
    const k = `${h.kid}|${h.sender}`;
    const prev = this.highest.get(k);
    if (prev && prev.seq >= h.seq) return false;
    this.highest.set(k, { kid: h.kid, sender: h.sender, seq: h.seq });
    return true;
  }

  async persist(tx: Db): Promise<void> {
    if (this.highest.size === 0) return;
    const rows = [...this.highest.values()].sort((a, b) => (a.kid + a.sender < b.kid + b.sender ? -1 : 1));
    await tx
      .insert(messageSequences)
      .values(rows.map((r) => ({ keyId: r.kid, sender: r.sender, lastSeq: r.seq, updatedAt: new Date() })))
      .onConflictDoUpdate({
        target: [messageSequences.keyId, messageSequences.sender],
        set: { lastSeq: sql`greatest(${messageSequences.lastSeq}, excluded.last_seq)`, updatedAt: sql`now()` },
      });
  }
}
