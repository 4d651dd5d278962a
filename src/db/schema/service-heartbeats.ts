import { integer, jsonb, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";

/**
 * Liveness of the roles that have no HTTP endpoint of their own (central, weather, ...): each
 * running instance upserts its row every few seconds, and the API reports a service as down
 * when its newest row is older than a few of its own intervals.
 */
export const serviceHeartbeats = pgTable(
  "service_heartbeats",
  {
    /** central, weather, ... */
    service: text("service").notNull(),
    /** Distinguishes several instances of one service (host:pid by default). */
    instance: text("instance").notNull(),
    startedAt: timestamp("started_at", { withTimezone: true }).notNull().defaultNow(),
    lastSeenAt: timestamp("last_seen_at", { withTimezone: true }).notNull().defaultNow(),
    /** How often this instance beats, so readers know when it is late. */
    intervalMs: integer("interval_ms").notNull(),
    /** Small, non-secret facts the instance wants shown (version, counts, ...). */
    details: jsonb("details"),
  },
  (t) => [primaryKey({ columns: [t.service, t.instance] })],
);

export type ServiceHeartbeatRow = typeof serviceHeartbeats.$inferSelect;
