/** Reading the audit log back: filtered, newest first, paged by offset or by an id cursor. */
import { and, count, desc, eq, gte, lt, lte, type SQL, sql } from "drizzle-orm";
import type { ActorType, Outcome } from "../../audit/vocabulary.ts";
import type { Db } from "../client.ts";
import { type AuditEventRow, auditEvents } from "../schema/index.ts";

export interface AuditFilter {
  /** Any text: the API filters by event types it does not know of too (it finds nothing). */
  eventType?: string;
  actorType?: ActorType;
  actorId?: string;
  resource?: string;
  outcome?: Outcome;
  from?: Date;
  to?: Date;
}

export interface AuditPage {
  limit: number;
  offset: number;
  /** Only events older than this id (the `next_cursor` of the previous page). */
  beforeId?: number;
}

export async function searchAuditEvents(db: Db, filter: AuditFilter, page: AuditPage): Promise<{ rows: AuditEventRow[]; total: number }> {
  const conditions: SQL[] = [];
  if (filter.eventType) conditions.push(sql`${auditEvents.eventType} = ${filter.eventType}`);
  if (filter.actorType) conditions.push(eq(auditEvents.actorType, filter.actorType));
  if (filter.actorId) conditions.push(eq(auditEvents.actorId, filter.actorId));
  if (filter.resource) conditions.push(eq(auditEvents.resource, filter.resource));
  if (filter.outcome) conditions.push(eq(auditEvents.outcome, filter.outcome));
  if (filter.from) conditions.push(gte(auditEvents.at, filter.from));
  if (filter.to) conditions.push(lte(auditEvents.at, filter.to));
  const matching = conditions.length ? and(...conditions) : undefined;
  const paged = page.beforeId !== undefined ? and(matching, lt(auditEvents.id, page.beforeId)) : matching;
  const [rows, [totals]] = await Promise.all([
    db.select().from(auditEvents).where(paged).orderBy(desc(auditEvents.id)).limit(page.limit).offset(page.offset),
    db.select({ total: count() }).from(auditEvents).where(matching),
  ]);
  return { rows, total: totals?.total ?? 0 };
}
