import { bigserial, index, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";

/** Append-only security and operations log. Rows are only ever inserted. */
export const auditEvents = pgTable(
  "audit_events",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
    /** registration, authentication, key, revocation, state_change, session, security, weather, error, ... */
    eventType: text("event_type").notNull(),
    /** cp, driver, operator, system, service */
    actorType: text("actor_type").notNull(),
    actorId: text("actor_id"),
    resource: text("resource"),
    action: text("action").notNull(),
    /** success, failure, error */
    outcome: text("outcome").notNull(),
    reason: text("reason"),
    sourceAddress: text("source_address"),
    details: jsonb("details"),
  },
  (t) => [index("audit_events_at_idx").on(t.at), index("audit_events_type_idx").on(t.eventType, t.at), index("audit_events_resource_idx").on(t.resource, t.at)],
);
