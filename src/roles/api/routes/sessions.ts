/** `GET /ev/central/sessions[/:session_id]`: sessions in progress and history. */
import { Hono } from "hono";
import * as v from "valibot";
import { describeRoute, errors, ok, validate } from "../../../http/openapi.ts";
import { cpIdSchema, driverIdSchema } from "../../../http/validate.ts";
import { AppError } from "../../../lib/errors.ts";
import type { ApiContext } from "../context.ts";
import { pagingSchema, sessionSchema } from "../shapes.ts";
import { findSession, listSessions } from "../views/sessions.ts";
import { pagingQuery, sessionIdSchema } from "./query.ts";
import { whileStoreIsUp } from "./store-errors.ts";

const listQuery = v.object({
  status: v.optional(v.picklist(["IN_PROGRESS", "FINISHED"], "status must be IN_PROGRESS or FINISHED")),
  cp_id: v.optional(cpIdSchema),
  driver_id: v.optional(driverIdSchema),
  ...pagingQuery,
});

export function sessionRoutes(ctx: ApiContext): Hono {
  const app = new Hono();

  app.get(
    "/sessions",
    describeRoute({
      tags: ["sessions"],
      summary: "List charging sessions",
      description: "Newest first. Filter by status (IN_PROGRESS for sessions in progress, FINISHED for history), CP or driver; page with limit and offset.",
      responses: {
        200: ok("One page of sessions and the total that match", v.object({ sessions: v.array(sessionSchema), paging: pagingSchema })),
        ...errors(422),
      },
    }),
    validate("query", listQuery),
    async (c) => {
      const q = c.req.valid("query");
      const { sessions, total } = await whileStoreIsUp(ctx, "list sessions", () =>
        listSessions(ctx.db, {
          status: q.status,
          cpId: q.cp_id,
          driverId: q.driver_id,
          limit: q.limit,
          offset: q.offset,
        }),
      );
      return c.json({ sessions, paging: { limit: q.limit, offset: q.offset, total } });
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
