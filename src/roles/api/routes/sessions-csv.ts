/**
 * `GET /ev/central/sessions.csv`: every session that matches the history's filters, as CSV
 * (RFC 4180, UTF-8, one header line), newest first, streamed a thousand rows at a time so a
 * long history never sits whole in memory.
 */
import { and, desc, eq, lt, or, type SQL } from "drizzle-orm";
import { Hono } from "hono";
import * as v from "valibot";
import type { Db } from "../../../db/client.ts";
import { chargingPoints, chargingSessions } from "../../../db/schema/index.ts";
import { describeRoute, errors, validate } from "../../../http/openapi.ts";
import type { ApiContext } from "../context.ts";
import { type SessionFilter, toSessionView, whereOf } from "../views/sessions.ts";
import { timeRangeInOrder } from "./console-query.ts";
import { sessionFilterOf, sessionFilterQuery } from "./session-filters.ts";
import { whileStoreIsUp } from "./store-errors.ts";

const CHUNK = 1000;
const COLUMNS = [
  "session_id",
  "cp_id",
  "city",
  "driver_id",
  "status",
  "started_at",
  "ended_at",
  "duration_s",
  "energy_kwh",
  "price_per_kwh",
  "cost_eur",
  "end_reason",
] as const;

/**
 * One CSV field: quoted when it holds a separator, a quote or a line break; a text that a
 * spreadsheet would run as a formula (=, +, -, @ first) is prefixed with a quote mark.
 */
export function csvField(value: string | number | null): string {
  if (value === null) return "";
  let text = String(value);
  if (typeof value === "string" && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

async function chunkAfter(db: Db, filter: SQL | undefined, after?: { startedAt: Date; sessionId: string }) {
  const page = after
    ? or(lt(chargingSessions.startedAt, after.startedAt), and(eq(chargingSessions.startedAt, after.startedAt), lt(chargingSessions.sessionId, after.sessionId)))
    : undefined;
  return db
    .select({ session: chargingSessions, city: chargingPoints.location })
    .from(chargingSessions)
    .innerJoin(chargingPoints, eq(chargingPoints.cpId, chargingSessions.cpId))
    .where(and(filter, page))
    .orderBy(desc(chargingSessions.startedAt), desc(chargingSessions.sessionId))
    .limit(CHUNK);
}

function csvLines(db: Db, rows: Awaited<ReturnType<typeof chunkAfter>>, now: Date): string {
  return rows
    .map(({ session, city }) => {
      const s = toSessionView(db, session, now);
      return [
        s.session_id,
        s.cp_id,
        city,
        s.driver_id,
        s.status,
        s.started_at,
        s.ended_at,
        s.duration_s,
        s.energy_kwh,
        s.price_per_kwh,
        s.cost_eur,
        s.end_reason,
      ]
        .map(csvField)
        .join(",");
    })
    .map((line) => `${line}\r\n`)
    .join("");
}

function csvStream(
  ctx: ApiContext,
  filter: Omit<SessionFilter, "limit" | "offset">,
  first: Awaited<ReturnType<typeof chunkAfter>>,
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const where = whereOf(filter);
  let rows = first;
  let headerSent = false;
  return new ReadableStream({
    async pull(controller) {
      if (!headerSent) {
        headerSent = true;
        controller.enqueue(encoder.encode(`${COLUMNS.join(",")}\r\n${csvLines(ctx.db, rows, new Date())}`));
      } else {
        const last = rows.at(-1);
        if (!last || rows.length < CHUNK) return controller.close();
        try {
          rows = await chunkAfter(ctx.db, where, { startedAt: last.session.startedAt, sessionId: last.session.sessionId });
        } catch (err) {
          ctx.log.warn("the CSV export stopped: the database failed mid-way", { err });
          return controller.error(err);
        }
        if (rows.length === 0) return controller.close();
        controller.enqueue(encoder.encode(csvLines(ctx.db, rows, new Date())));
      }
    },
  });
}

export function sessionsCsvRoutes(ctx: ApiContext): Hono {
  const app = new Hono();
  app.get(
    "/sessions.csv",
    describeRoute({
      tags: ["sessions"],
      summary: "Export sessions as CSV",
      description: `The same filters as GET /ev/central/sessions, every match (no paging), newest first. Columns: ${COLUMNS.join(", ")}.`,
      responses: { 200: { description: "A CSV file", content: { "text/csv": { schema: { type: "string" } } } }, ...errors(422, 503) },
    }),
    validate("query", v.pipe(v.object(sessionFilterQuery), timeRangeInOrder())),
    async (c) => {
      const filter = sessionFilterOf(c.req.valid("query"));
      // The first chunk is read before answering: a database that is down is a 503, not a cut file.
      const first = await whileStoreIsUp(ctx, "export sessions", () => chunkAfter(ctx.db, whereOf(filter)));
      const day = new Date().toISOString().slice(0, 10);
      return new Response(csvStream(ctx, filter, first), {
        headers: {
          "content-type": "text/csv; charset=utf-8",
          "content-disposition": `attachment; filename="evnet-sessions-${day}.csv"`,
          "cache-control": "no-store",
        },
      });
    },
  );
  return app;
}
