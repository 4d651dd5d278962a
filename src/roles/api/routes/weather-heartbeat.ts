/**
 * `PUT /ev/central/weather/heartbeat` (service token): the weather office, which runs without a
 * database, beats through the API so the health report can say whether it is up.
 */
import { Hono } from "hono";
import * as v from "valibot";
import { beat } from "../../../db/repos/heartbeats.ts";
import { requireToken, type TokenRole } from "../../../http/auth.ts";
import { bearer, describeRoute, errors, ok, validate } from "../../../http/openapi.ts";
import { weatherHeartbeatBody } from "../../../http/weather-api.ts";
import type { ApiContext } from "../context.ts";
import { whileStoreIsUp } from "./store-errors.ts";

export function weatherHeartbeatRoutes(ctx: ApiContext): Hono<{ Variables: { tokenRole: TokenRole } }> {
  const app = new Hono<{ Variables: { tokenRole: TokenRole } }>();
  const service = requireToken([{ role: "service", token: ctx.config.EVNET_SERVICE_TOKEN }], ctx.auditor);

  app.put(
    "/weather/heartbeat",
    describeRoute({
      tags: ["weather"],
      summary: "The weather office's heartbeat",
      description: "Service token. Recorded as the `weather` service's heartbeat in the health report.",
      security: bearer,
      responses: { 200: ok("Recorded", v.object({ recorded: v.literal(true) })), ...errors(400, 401, 422, 503) },
    }),
    service,
    validate("json", weatherHeartbeatBody),
    async (c) => {
      const body = c.req.valid("json");
      await whileStoreIsUp(ctx, "record the heartbeat", () =>
        beat(ctx.db, { service: "weather", instance: body.instance, intervalMs: body.interval_ms, details: body.details }),
      );
      return c.json({ recorded: true as const });
    },
  );

  return app;
}
