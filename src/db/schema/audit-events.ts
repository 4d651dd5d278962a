import { bigserial, index, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import type { ActorType, AuditEventType, Outcome } from "../../audit/vocabulary.ts";

/** Append-only security and operations log. Rows are only ever inserted. */
export const auditEvents = pgTable(
  "audit_events",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
    eventType: text("event_type").$type<AuditEventType>().notNull(),
    actorType: text("actor_type").$type<ActorType>().notNull(),
    actorId: text("actor_id"),
    resource: text("resource"),
    action: text("action").notNull(),
    outcome: text("outcome").$type<Outcome>().notNull(),
    reason: text("reason"),
    sourceAddress: text("source_address"),
    details: jsonb("details"),
  },
  (t) => [index("audit_events_at_idx").on(t.at), index("audit_events_type_idx").on(t.eventType, t.at), index("audit_events_resource_idx").on(t.resource, t.at)],
);

export type AuditEventRow = typeof auditEvents.$inferSelect;
