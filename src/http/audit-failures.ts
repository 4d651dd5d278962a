/**
 * Audits a route's refusals: whatever made the response a 4xx or 5xx (bad JSON, a field of the
 * wrong type, an unknown id, a refused client) becomes an audit entry with the error's message
 * as its reason and the peer's address. A handler that audits its own outcome sets
 * `c.set("audited", true)`; unexpected errors (5xx) are audited regardless.
 */
import type { Context, MiddlewareHandler } from "hono";
import type { Auditor } from "../audit/audit.ts";
import type { ActorType, AuditEventType } from "../audit/vocabulary.ts";
import { clientAddress } from "./client-address.ts";

export interface FailureAudit {
  eventType: AuditEventType;
  action: string;
  actorType: ActorType;
  /** Read after the handler ran, so it may use what the request named (a path parameter...). */
  actorId?: (c: Context) => string | undefined | Promise<string | undefined>;
  resource?: (c: Context) => string | undefined | Promise<string | undefined>;
}

export type AuditedVariables = { audited?: boolean };

export function auditFailures(auditor: Auditor, what: FailureAudit): MiddlewareHandler<{ Variables: AuditedVariables }> {
  return async (c, next) => {
    await next();
    const status = c.res.status;
    if (status < 400) return;
    if (c.get("audited") && status < 500) return;
    await auditor.record({
      eventType: what.eventType,
      actorType: what.actorType,
      actorId: (await what.actorId?.(c)) ?? null,
      resource: (await what.resource?.(c)) ?? null,
      action: what.action,
      outcome: status >= 500 ? "error" : "failure",
      reason: `${status}: ${c.error?.message ?? "request refused"}`,
      sourceAddress: clientAddress(c),
    });
  };
}
