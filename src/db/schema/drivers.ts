import { pgTable, text, timestamp } from "drizzle-orm/pg-core";
import type { DriverState } from "../../domain/session-state.ts";

export const drivers = pgTable("drivers", {
  driverId: text("driver_id").primaryKey(),
  status: text("status").$type<DriverState>().notNull().default("IDLE"),
  currentSessionId: text("current_session_id"),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  lastSeenAt: timestamp("last_seen_at", { withTimezone: true }).notNull().defaultNow(),
});

export type DriverRow = typeof drivers.$inferSelect;
