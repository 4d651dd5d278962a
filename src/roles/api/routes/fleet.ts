/**
 * The console's view of the whole network: `GET /ev/central/summary` (the figures of the
 * summary tiles, counted by the database) and `GET /ev/central/fleet` (one page of chargers,
 * searched by id or city, filtered by state, city, frost or protocol, sorted, with the count per state).
 */
import { Hono } from "hono";
import * as v from "valibot";
import { CP_STATES } from "../../../domain/cp-state.ts";
import { describeRoute, errors, ok, validate } from "../../../http/openapi.ts";
import { FLEET_SORTS, fleetPageSchema, networkSummarySchema } from "../console-shapes.ts";
import type { ApiContext } from "../context.ts";
import { fleetPage } from "../views/fleet.ts";
import { PROTOCOL_NAMES } from "../views/protocol.ts";
import { networkSummary } from "../views/summary.ts";
import { textFilter } from "./console-query.ts";
import { wholeNumber } from "./query.ts";
import { whileStoreIsUp } from "./store-errors.ts";

const fleetQuery = v.object({
  q: textFilter("q"),
  status: v.optional(v.picklist(CP_STATES, `status must be one of ${CP_STATES.join(", ")}`)),
  city: textFilter("city"),
  frost: v.optional(
    v.pipe(
      v.picklist(["true", "false"], "frost must be true or false"),
      v.transform((s) => s === "true"),
    ),
  ),
  protocol: v.optional(v.picklist(PROTOCOL_NAMES, `protocol must be one of ${PROTOCOL_NAMES.join(", ")}`)),
  sort: v.optional(v.picklist(FLEET_SORTS, `sort must be one of ${FLEET_SORTS.join(", ")}`), "cp_id"),
  order: v.optional(v.picklist(["asc", "desc"], "order must be asc or desc"), "asc"),
  limit: wholeNumber("limit", 50, 1, 200),
  offset: wholeNumber("offset", 0, 0, 1_000_000),
});

export function fleetRoutes(ctx: ApiContext): Hono {
  const app = new Hono();

  app.get(
    "/summary",
    describeRoute({
      tags: ["console"],
      summary: "The network in figures",
      description: "Chargers per state and in frost, sessions and power now, the last 24 hours, drivers: counted by the database.",
      responses: { 200: ok("The figures", v.object({ summary: networkSummarySchema })), ...errors(503) },
    }),
    async (c) => c.json({ summary: await whileStoreIsUp(ctx, "count the network", () => networkSummary(ctx.db)) }),
  );

  app.get(
    "/fleet",
    describeRoute({
      tags: ["console"],
      summary: "Search the chargers, one page at a time",
      description:
        "q: part of an id or a city (case ignored); status; city (exact, case and spaces ignored); frost=true|false; protocol: evnet, ocpp (any version), ocpp1.6 or ocpp2.0.1; sort: cp_id, city, status, price, changed (state change time) or power (now); order asc|desc; limit (1-200) and offset. Deregistered chargers are left out.",
      responses: { 200: ok("A page of chargers, the total that match, and how many match per state", fleetPageSchema), ...errors(422, 503) },
    }),
    validate("query", fleetQuery),
    async (c) => {
      const q = c.req.valid("query");
      const page = await whileStoreIsUp(ctx, "search the chargers", () => fleetPage(ctx.db, q));
      return c.json({
        charging_points: page.chargingPoints,
        paging: { limit: q.limit, offset: q.offset, total: page.total },
        counts_by_state: page.countsByState,
      });
    },
  );

  return app;
}
