/**
 * Readings read again. While readings are held back from their rows (held-readings.ts), the
 * offset Central commits for a partition stays at its earliest reading not written yet; after a
 * crash or a rebalance whoever reads the partition next starts there, below the partition's
 * applied offset. What lies below it was applied already, so of it only the readings are used
 * again: each session's newest is written where its row does not have it yet (the row's
 * sequence decides, as for any reading). Nothing else is done twice: no audit (what was refused
 * was audited when first read), no progress, no command, no sample.
 */
import type { BusMessage } from "../../bus/bus.ts";
import { cpEventSchema, type Telemetry } from "../../bus/messages.ts";
import { rowsOf } from "../../db/client.ts";
import { againOnConflict } from "../../db/unavailable.ts";
import { replayOf } from "../../dead-letters/messages.ts";
import { costOf, meterKwh } from "../../domain/billing.ts";
import { validate } from "../../lib/parsed.ts";
import type { CentralContext } from "./context.ts";
import { type ReadingRow, readingsUpdate } from "./cp-events.ts";
import { isProbe } from "./probes.ts";

/** Writes the newest reading of each session among messages of ctx.topics.cpEvents applied before; returns how many rows took one. */
export async function writeReadingsReadAgain(ctx: CentralContext, messages: BusMessage[]): Promise<number> {
  const sealed = messages.filter((m) => !isProbe(m) && replayOf(m.headers) === undefined);
  if (sealed.length === 0) return 0;
  // Their sequences were checked when first read: the row's sequence is the guard now.
  const opened = await ctx.channel.openBatch(sealed, new Map(), new Set(sealed), true);
  const newest = new Map<string, { cpId: string; seq: number; t: Telemetry }>();
  for (const o of opened) {
    if (!o.ok || o.subject.type !== "cp") continue;
    const event = validate(cpEventSchema, o.payload);
    if (!event.ok || event.value.type !== "telemetry") continue;
    const t = event.value;
    const prev = newest.get(t.session_id);
    if (!prev || prev.seq < o.header.seq) newest.set(t.session_id, { cpId: o.subject.id, seq: o.header.seq, t });
  }
  if (newest.size === 0) return 0;
  await ctx.sessions.load(ctx.db, newest.keys());
  const rows: ReadingRow[] = [];
  for (const [id, r] of newest) {
    const s = ctx.sessions.get(id);
    if (!s || s.cpId !== r.cpId) continue; // closed since (its bill took what it had), or not this CP's
    const energy = meterKwh(r.t.energy_kwh);
    rows.push({ id, cp: r.cpId, p: r.t.power_kw, e: energy, c: costOf(energy, s.pricePerKwh), q: r.seq, m: r.seq, t: r.t.at, k: false });
  }
  if (rows.length === 0) return 0;
  const written = rowsOf<{ session_id: string; written: boolean }>(await againOnConflict(() => ctx.db.execute(readingsUpdate(rows)))).filter((r) => r.written);
  const seqOf = new Map(rows.map((r) => [r.id, r.q]));
  for (const w of written) ctx.sessions.tookReading(w.session_id, seqOf.get(w.session_id)!);
  if (written.length) ctx.log.info("readings read again written", { sessions: written.length, messages: messages.length });
  return written.length;
}
