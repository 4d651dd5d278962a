import { pgTable, text, timestamp } from "drizzle-orm/pg-core";

export const drivers = pgTable("drivers", {
  driverId: text("driver_id").primaryKey(),
  /** IDLE, WAITING (request pending) or CHARGING. */
  status: text("status").notNull().default("IDLE"),
  currentSessionId: text("current_session_id"),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  lastSeenAt: timestamp("last_seen_at", { withTimezone: true }).notNull().defaultNow(),
});
