/**
 * The audit log: every registration, authentication, key issue and revocation, state change,
 * session start and end, rejected message, weather alert and error is appended here.
 * Writing an audit entry never throws into the caller's flow: a failed insert is logged.
 */
import { type Db, partsOf } from "../db/client.ts";
import { auditEvents } from "../db/schema/index.ts";
import { isCleanText, printable } from "../domain/ids.ts";
import type { Logger } from "../lib/log.ts";
import type { ActorType, AuditEventType, Outcome } from "./vocabulary.ts";

export interface AuditEntry {
  eventType: AuditEventType;
  actorType: ActorType;
  actorId?: string | null;
  resource?: string | null;
  action: string;
  outcome: Outcome;
  reason?: string | null;
  sourceAddress?: string | null;
  details?: Record<string, unknown> | null;
  at?: Date;
}

export interface Auditor {
  record(entry: AuditEntry): Promise<void>;
  /** Several entries in one insert (a batch of key issues). */
  recordMany(entries: AuditEntry[]): Promise<void>;
}

/**
 * The audit_events row for an entry (absent fields stored as NULL, time defaulting to now).
 * An entry about a refusal may name what was refused: its texts are kept printable, so that a
 * control character (a NUL, which PostgreSQL cannot store) never loses the entry.
 */
export function auditRow(entry: AuditEntry) {
  return {
    eventType: entry.eventType,
    actorType: entry.actorType,
    actorId: storable(entry.actorId ?? null),
    resource: storable(entry.resource ?? null),
    action: storable(entry.action),
    outcome: entry.outcome,
    reason: storable(entry.reason ?? null),
    sourceAddress: storable(entry.sourceAddress ?? null),
    details: storable(entry.details ?? null),
    ...(entry.at ? { at: entry.at } : {}),
  };
}

/** A value with every text in it printable (objects and arrays walked, dates kept). */
function storable<T>(value: T): T {
  if (typeof value === "string") return (isCleanText(value) ? value : printable(value, value.length)) as T;
  if (Array.isArray(value)) return value.map(storable) as T;
  if (value && typeof value === "object" && !(value instanceof Date))
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [storable(k), storable(v)])) as T;
  return value;
}

export function createAuditor(db: Db, log: Logger): Auditor {
  return {
    async record(entry) {
      try {
        await db.insert(auditEvents).values(auditRow(entry));
      } catch (err) {
        log.error("could not write audit entry", { err, action: entry.action, resource: entry.resource ?? undefined });
      }
    },
    async recordMany(entries) {
      if (entries.length === 0) return;
      try {
        for (const part of partsOf(entries)) await db.insert(auditEvents).values(part.map(auditRow));
      } catch (err) {
        log.error("could not write audit entries", { err, count: entries.length, action: entries[0]?.action });
      }
    },
  };
}
