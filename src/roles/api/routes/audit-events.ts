/** `GET /ev/central/audit-events`: the audit log, filtered and paged, newest first. */
import { Hono } from "hono";
import * as v from "valibot";
import { ACTOR_TYPES, OUTCOMES } from "../../../audit/vocabulary.ts";
import { searchAuditEvents } from "../../../db/repos/audit-events.ts";
import { describeRoute, errors, ok, validate } from "../../../http/openapi.ts";
import { queryText } from "../../../http/validate.ts";
import type { ApiContext } from "../context.ts";
import { auditEventPageSchema } from "../shapes.ts";
import { toAuditEventView } from "../views/audit.ts";
import { wholeNumber } from "./query.ts";

const filter = (name: string, max = 200) => queryText(name, max, { required: true });
const time = (name: string) =>
  v.optional(
    v.pipe(
      v.string(),
      v.check((s) => !Number.isNaN(Date.parse(s)), `${name} must be a date and time (ISO 8601, e.g. 2025-01-31T10:00:00Z)`),
      v.transform((s) => new Date(s)),
    ),
  );

/** "a, b or c", as the refusal names the values a filter takes. */
const either = (values: readonly string[]) => `${values.slice(0, -1).join(", ")} or ${values.at(-1)}`;

const auditQuery = v.pipe(
  v.object({
    event_type: filter("event_type", 64),
    actor_type: v.optional(v.picklist(ACTOR_TYPES, `actor_type must be ${either(ACTOR_TYPES)}`)),
    actor_id: filter("actor_id"),
    resource: filter("resource"),
    outcome: v.optional(v.picklist(OUTCOMES, `outcome must be ${either(OUTCOMES)}`)),
    from: time("from"),
    to: time("to"),
    limit: wholeNumber("limit", 100, 1, 500),
    offset: wholeNumber("offset", 0, 0, 1_000_000),
    /** The `next_cursor` of the previous page: events older than it. */
    cursor: v.optional(v.pipe(v.string(), v.regex(/^\d{1,15}$/, "cursor must be the next_cursor of a previous page"), v.transform(Number))),
  }),
  v.check((q) => !(q.from && q.to) || q.from <= q.to, "from must not be after to"),
);

export function auditEventRoutes(ctx: ApiContext): Hono {
  const app = new Hono();
  app.get(
    "/audit-events",
    describeRoute({
      tags: ["audit"],
      summary: "Search the audit log",
      description:
        "Newest first. Filters: event_type, actor_type, actor_id, resource (e.g. cp/CP_001), outcome, from/to (ISO 8601). Page with offset, or pass the previous page's next_cursor as cursor.",
      responses: { 200: ok("A page of audit events", auditEventPageSchema), ...errors(422) },
    }),
    validate("query", auditQuery),
    async (c) => {
      const q = c.req.valid("query");
      const { rows, total } = await searchAuditEvents(
        ctx.db,
        { eventType: q.event_type, actorType: q.actor_type, actorId: q.actor_id, resource: q.resource, outcome: q.outcome, from: q.from, to: q.to },
        { limit: q.limit, offset: q.offset, beforeId: q.cursor },
      );
      const last = rows.at(-1);
      return c.json({
        audit_events: rows.map(toAuditEventView),
        paging: { limit: q.limit, offset: q.offset, total, next_cursor: rows.length === q.limit && last ? String(last.id) : null },
      });
    },
  );
  return app;
}
