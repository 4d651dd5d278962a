/**
 * The audit log: every registration, authentication, key issue and revocation, state change,
 * session start and end, rejected message, weather alert and error is appended here.
 * Writing an audit entry never throws into the caller's flow: a failed insert is logged.
 */
import type { Db } from "../db/client.ts";
import { auditEvents } from "../db/schema/index.ts";
import type { Logger } from "../lib/log.ts";

export type AuditEventType =
  | "registration"
  | "deregistration"
  | "authentication"
  | "key"
  | "revocation"
  | "state_change"
  | "session"
  | "request"
  | "security"
  | "weather"
  | "operator"
  | "error";

export type ActorType = "cp" | "driver" | "operator" | "system" | "service";
export type Outcome = "success" | "failure" | "error";

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
}

/** The audit_events row for an entry (absent fields stored as NULL, time defaulting to now). */
export function auditRow(entry: AuditEntry) {
  return {
    eventType: entry.eventType,
    actorType: entry.actorType,
    actorId: entry.actorId ?? null,
    resource: entry.resource ?? null,
    action: entry.action,
    outcome: entry.outcome,
    reason: entry.reason ?? null,
    sourceAddress: entry.sourceAddress ?? null,
    details: entry.details ?? null,
    ...(entry.at ? { at: entry.at } : {}),
  };
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
  };
}
