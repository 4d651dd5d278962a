/**
 * `POST /ev/central/weather/events` (service token): the weather office has no database, so it
 * reports what went wrong reading temperatures (a bad key, an unknown city, the rate limit, a
 * provider outage or garbage answer) and when it recovered; the API appends each to the audit
 * log as a `weather` event (outcome `error`, or `success` for a recovery).
 */
import { Hono } from "hono";
import * as v from "valibot";
import { auditEvents } from "../../../db/schema/index.ts";
import { requireToken, type TokenRole } from "../../../http/auth.ts";
import { clientAddress } from "../../../http/client-address.ts";
import { bearer, describeRoute, errors, ok, validate } from "../../../http/openapi.ts";
import { weatherEventReport } from "../../../http/weather-api.ts";
import type { ApiContext } from "../context.ts";
import { whileStoreIsUp } from "./store-errors.ts";

export function weatherEventRoutes(ctx: ApiContext): Hono<{ Variables: { tokenRole: TokenRole } }> {
  const app = new Hono<{ Variables: { tokenRole: TokenRole } }>();
  const service = requireToken([{ role: "service", token: ctx.config.EVNET_SERVICE_TOKEN }], ctx.auditor);

  app.post(
    "/weather/events",
    describeRoute({
      tags: ["weather"],
      summary: "Report a failure (or recovery) reading temperatures",
      description: "Service token. Appended to the audit log as a `weather` event.",
      security: bearer,
      responses: { 201: ok("Recorded in the audit log", v.object({ recorded: v.literal(true) })), ...errors(400, 401, 422, 503) },
    }),
    service,
    validate("json", weatherEventReport),
    async (c) => {
      const event = c.req.valid("json");
      // Written here rather than through the auditor, which only logs a failed insert: this
      // endpoint's whole job is the entry, so a database that is down must be a 503 the weather
      // office retries, not a success for an entry that was never written.
      await whileStoreIsUp(ctx, "record the weather event", () =>
        ctx.db.insert(auditEvents).values({
          eventType: "weather",
          actorType: "service",
          actorId: "weather",
          resource: event.city ? `city/${event.city}` : `provider/${event.provider ?? "unknown"}`,
          action: "read_temperature",
          outcome: event.kind === "recovered" ? "success" : "error",
          reason: `${event.kind}: ${event.message}`,
          sourceAddress: clientAddress(c) ?? null,
          details: { kind: event.kind, provider: event.provider ?? null, http_status: event.http_status ?? null, observed_at: event.at ?? null },
        }),
      );
      if (event.kind !== "recovered") ctx.log.warn("weather office cannot read a temperature", { kind: event.kind, city: event.city, message: event.message });
      return c.json({ recorded: true as const }, 201);
    },
  );

  return app;
}
