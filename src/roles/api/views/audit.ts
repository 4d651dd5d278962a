/** Recent audit events for the dashboard: the newest, and the newest failures and errors. */
import { desc, inArray } from "drizzle-orm";
import type { Db } from "../../../db/client.ts";
import { type AuditEventRow, auditEvents } from "../../../db/schema/index.ts";
import type { AuditEventView } from "../shapes.ts";
import { iso } from "./time.ts";

export function toAuditEventView(r: AuditEventRow): AuditEventView {
  return {
    id: r.id,
    at: iso(r.at),
    event_type: r.eventType,
    actor_type: r.actorType,
    actor_id: r.actorId,
    resource: r.resource,
    action: r.action,
    outcome: r.outcome,
    reason: r.reason,
    source_address: r.sourceAddress,
    details: r.details ?? null,
  };
}

export async function recentAuditEvents(db: Db, limit: number): Promise<AuditEventView[]> {
  const rows = await db.select().from(auditEvents).orderBy(desc(auditEvents.id)).limit(limit);
  return rows.map(toAuditEventView);
}

/** What the system flags as going wrong: refused messages, failed logins, errors. */
export async function recentAlerts(db: Db, limit: number): Promise<AuditEventView[]> {
  const rows = await db
    .select()
    .from(auditEvents)
    .where(inArray(auditEvents.outcome, ["failure", "error"]))
    .orderBy(desc(auditEvents.id))
    .limit(limit);
  return rows.map(toAuditEventView);
}
