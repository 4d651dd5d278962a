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
  (t) => [primaryKey({ columns: [t.sessionId, t.at] }), index("session_samples_cp_at_idx").on(t.cpId, t.at), index("session_samples_at_idx").on(t.at)],
);

export type SessionSampleRow = typeof sessionSamples.$inferSelect;
