import { sql } from "drizzle-orm";
import { bigint, doublePrecision, index, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import type { EndReason } from "../../domain/billing.ts";
import type { SessionState } from "../../domain/session-state.ts";
import { chargingPoints } from "./charging-points.ts";
import { drivers } from "./drivers.ts";

/** A charging session: opened when Central authorises a request, closed with a ticket. */
export const chargingSessions = pgTable(
  "charging_sessions",
  {
    sessionId: text("session_id").primaryKey(),
    cpId: text("cp_id")
      .notNull()
      .references(() => chargingPoints.cpId),
    driverId: text("driver_id")
      .notNull()
      .references(() => drivers.driverId),
    status: text("status").$type<SessionState>().notNull().default("IN_PROGRESS"),
    pricePerKwh: doublePrecision("price_per_kwh").notNull(),
    powerKw: doublePrecision("power_kw").notNull().default(0),
    energyKwh: doublePrecision("energy_kwh").notNull().default(0),
    costEur: doublePrecision("cost_eur").notNull().default(0),
    /** Highest telemetry sequence applied, so a redelivered message is applied once. */
    lastTelemetrySeq: bigint("last_telemetry_seq", { mode: "number" }).notNull().default(0),
    startedAt: timestamp("started_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
    endedAt: timestamp("ended_at", { withTimezone: true }),
    endReason: text("end_reason").$type<EndReason>(),
    /** When the engine confirmed it started supplying. */
    supplyStartedAt: timestamp("supply_started_at", { withTimezone: true }),
    /** Set when Central asked the engine to stop: the reason the session will end with. */
    pendingEndReason: text("pending_end_reason").$type<EndReason>(),
    /**
     * Central closes the session itself if the engine has not answered by then (start or final
     * report). Set when the command the engine answers was actually published, not when it was
     * decided: a command waiting in the outbox (the bus is away) has not started the wait.
     */
    awaitingUntil: timestamp("awaiting_until", { withTimezone: true }),
    /** When the engine took the latest reading applied (its clock): the end of a session closed without a final reading. */
    lastReadingAt: timestamp("last_reading_at", { withTimezone: true }),
    /** When a final reading that arrived after the session was closed corrected its ticket (once). */
    correctedAt: timestamp("corrected_at", { withTimezone: true }),
  },
  (t) => [
    index("charging_sessions_cp_idx").on(t.cpId, t.status),
    index("charging_sessions_driver_idx").on(t.driverId, t.startedAt),
    // The history view pages through every session, newest first.
    index("charging_sessions_started_idx").on(t.startedAt),
    // At most one session in progress per CP and per driver, whatever races between Centrals.
    uniqueIndex("charging_sessions_one_open_per_cp").on(t.cpId).where(sql`status = 'IN_PROGRESS'`),
    uniqueIndex("charging_sessions_one_open_per_driver").on(t.driverId).where(sql`status = 'IN_PROGRESS'`),
    index("charging_sessions_awaiting_idx").on(t.awaitingUntil).where(sql`status = 'IN_PROGRESS'`),
  ],
);

export type SessionRow = typeof chargingSessions.$inferSelect;
