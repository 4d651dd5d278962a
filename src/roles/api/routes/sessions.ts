/** `GET /ev/central/sessions[/:session_id]`: sessions in progress and history. */
import { Hono } from "hono";
import * as v from "valibot";
import { describeRoute, errors, ok, validate } from "../../../http/openapi.ts";
import { AppError } from "../../../lib/errors.ts";
import type { ApiContext } from "../context.ts";
import { sessionListSchema, sessionSchema } from "../shapes.ts";
import { findSession, listSessions, sessionTotals } from "../views/sessions.ts";
import { timeRangeInOrder } from "./console-query.ts";
import { pagingQuery, sessionIdSchema } from "./query.ts";
import { sessionFilterOf, sessionFilterQuery } from "./session-filters.ts";
import { whileStoreIsUp } from "./store-errors.ts";

const listQuery = v.pipe(v.object({ ...sessionFilterQuery, ...pagingQuery }), timeRangeInOrder());

export function sessionRoutes(ctx: ApiContext): Hono {
  const app = new Hono();

  app.get(
    "/sessions",
    describeRoute({
      tags: ["sessions"],
      summary: "List charging sessions",
      description:
        "Newest first. Filter by status (IN_PROGRESS for sessions in progress, FINISHED for history), CP, driver, city, start time (from/to, ISO 8601) or end_reason; page with limit and offset. `totals` adds up every session that matches. GET /ev/central/sessions.csv gives them all as CSV.",
      responses: {
        200: ok("One page of sessions, the total that match and what they add up to", sessionListSchema),
        ...errors(422),
      },
    }),
    validate("query", listQuery),
    async (c) => {
      const q = c.req.valid("query");
      const filter = sessionFilterOf(q);
      const [{ sessions, total }, totals] = await whileStoreIsUp(ctx, "list sessions", () =>
        Promise.all([listSessions(ctx.db, { ...filter, limit: q.limit, offset: q.offset }), sessionTotals(ctx.db, filter)]),
      );
      return c.json({ sessions, paging: { limit: q.limit, offset: q.offset, total }, totals });
    },
  );

  app.get(
    "/sessions/:session_id",
    describeRoute({
      tags: ["sessions"],
      summary: "Show one charging session",
      responses: { 200: ok("The session", v.object({ session: sessionSchema })), ...errors(404, 422) },
    }),
    validate("param", v.object({ session_id: sessionIdSchema })),
    async (c) => {
      const { session_id } = c.req.valid("param");
      const session = await whileStoreIsUp(ctx, "read a session", () => findSession(ctx.db, session_id));
      if (!session) throw new AppError("not_found", `no session '${session_id}'`);
      return c.json({ session });
    },
  );

  return app;
}
