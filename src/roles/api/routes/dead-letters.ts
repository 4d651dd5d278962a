/**
 * Dead letters (operator token): messages Central set aside because they could never be
 * applied. List them, read one (its bytes as text when they are text), and replay one once its
 * cause is fixed: a copy goes back to its topic and Central applies it, once (202 Accepted).
 */
import { Hono } from "hono";
import * as v from "valibot";
import { DEAD_LETTER_STATUSES, findDeadLetter, listDeadLetters } from "../../../db/repos/dead-letters.ts";
import { replayDeadLetter } from "../../../dead-letters/replay.ts";
import { deadLetterDetail, deadLetterDetailSchema, deadLetterSchema, deadLetterView } from "../../../dead-letters/view.ts";
import { type AuditedVariables, auditFailures } from "../../../http/audit-failures.ts";
import { requireToken } from "../../../http/auth.ts";
import { clientAddress } from "../../../http/client-address.ts";
import { bearer, describeRoute, errors, ok, validate } from "../../../http/openapi.ts";
import { AppError } from "../../../lib/errors.ts";
import type { ApiContext } from "../context.ts";
import { wholeNumber } from "./query.ts";
import { whileStoreIsUp } from "./store-errors.ts";

const idParam = v.object({
  id: v.pipe(v.string(), v.regex(/^\d{1,15}$/, "id must be a dead letter's number"), v.transform(Number)),
});

const listQuery = v.object({
  status: v.optional(v.picklist(DEAD_LETTER_STATUSES, `status must be one of ${DEAD_LETTER_STATUSES.join(", ")}`)),
  topic: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z0-9._-]{1,200}$/, "topic must be a topic name"))),
  limit: wholeNumber("limit", 50, 1, 500),
  /** The `next_cursor` of the previous page: letters older than it. */
  cursor: v.optional(v.pipe(v.string(), v.regex(/^\d{1,15}$/, "cursor must be the next_cursor of a previous page"), v.transform(Number))),
});

const pageSchema = v.object({ dead_letters: v.array(deadLetterSchema), next_cursor: v.nullable(v.string()) });
const replaySchema = v.object({ id: v.number(), topic: v.string(), message: v.string() });

export function deadLetterRoutes(ctx: ApiContext): Hono<{ Variables: AuditedVariables }> {
  const app = new Hono<{ Variables: AuditedVariables }>();
  const operator = requireToken([{ role: "operator", token: ctx.config.EVNET_OPERATOR_TOKEN }], ctx.auditor);

  app.get(
    "/dead-letters",
    describeRoute({
      tags: ["admin"],
      summary: "List dead letters",
      description: "Operator token. Messages Central set aside because they could never be applied, newest first; filter by status or topic.",
      security: bearer,
      responses: { 200: ok("A page of dead letters", pageSchema), ...errors(401, 422, 503) },
    }),
    operator,
    validate("query", listQuery),
    async (c) => {
      const q = c.req.valid("query");
      const rows = await whileStoreIsUp(ctx, "list dead letters", () =>
        listDeadLetters(ctx.db, { status: q.status, topic: q.topic, limit: q.limit, beforeId: q.cursor }),
      );
      const last = rows.at(-1);
      return c.json({ dead_letters: rows.map(deadLetterView), next_cursor: rows.length === q.limit && last ? String(last.id) : null });
    },
  );

  app.get(
    "/dead-letters/:id",
    describeRoute({
      tags: ["admin"],
      summary: "Show a dead letter",
      description: "Operator token. Where it came from, why it was set aside, its headers and its bytes.",
      security: bearer,
      responses: { 200: ok("The dead letter", v.object({ dead_letter: deadLetterDetailSchema })), ...errors(401, 404, 422, 503) },
    }),
    operator,
    validate("param", idParam),
    async (c) => {
      const { id } = c.req.valid("param");
      const row = await whileStoreIsUp(ctx, "read a dead letter", () => findDeadLetter(ctx.db, id));
      if (!row) throw new AppError("not_found", `there is no dead letter ${id}`);
      return c.json({ dead_letter: deadLetterDetail(row) });
    },
  );

  app.post(
    "/dead-letters/:id/replay",
    describeRoute({
      tags: ["admin"],
      summary: "Replay a dead letter",
      description:
        "Operator token. Central sends the message back to its topic within a second and applies it once (if it fails again, it is set aside again as a new dead letter pointing back at this one).",
      security: bearer,
      responses: { 202: ok("Central sends it back to its topic", replaySchema), ...errors(401, 404, 409, 422, 503) },
    }),
    operator,
    auditFailures(ctx.auditor, {
      eventType: "operator",
      action: "replay_dead_letter",
      actorType: "operator",
      resource: (c) => `dead-letter/${c.req.param("id")?.slice(0, 20)}`,
    }),
    validate("param", idParam),
    async (c) => {
      const { id } = c.req.valid("param");
      c.set("audited", true); // replayDeadLetter audits every outcome itself
      const row = await replayDeadLetter(ctx, id, { actorType: "operator", actorId: "api", sourceAddress: clientAddress(c) });
      return c.json({ id, topic: row.topic, message: `Central sends dead letter ${id} back to ${row.topic} and applies it once` }, 202);
    },
  );

  return app;
}
