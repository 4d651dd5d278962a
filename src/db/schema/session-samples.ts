import { doublePrecision, index, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";

/**
 * Readings of a session kept for charts (power and energy over time): Central keeps one reading
 * of a session every few seconds, not every one (src/roles/central/samples.ts), and forgets
 * them after some days. The session row itself always holds the latest reading.
 */
export const sessionSamples = pgTable(
  "session_samples",
  {
    sessionId: text("session_id").notNull(),
    cpId: text("cp_id").notNull(),
    at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
    powerKw: doublePrecision("power_kw").notNull(),
    energyKwh: doublePrecision("energy_kwh").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.sessionId, t.at] }),
    index("session_samples_cp_at_idx").on(t.cpId, t.at),
    // Only the daily pruning looks rows up by time alone, and rows come in time order: a BRIN
    // index (a summary per range of pages) serves it at a fraction of a B-tree's cost per insert.
    index("session_samples_at_idx").using("brin", t.at),
  ],
);

export type SessionSampleRow = typeof sessionSamples.$inferSelect;
