/**
 * Live updates for the dashboard: `GET /ev/central/events/stream` (server-sent events) pushes a
 * `snapshot` whenever the data changes (within about half a second), `health` when the database
 * cannot be read, and a `ping` every few seconds so a client can tell a silent API from a quiet
 * network. `GET /ev/central/snapshot` returns the same snapshot once, as JSON.
 */
import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { describeRoute, errors, ok } from "../../../http/openapi.ts";
import { AppError } from "../../../lib/errors.ts";
import type { ApiContext } from "../context.ts";
import { liveHubOf } from "../live/for-context.ts";
import type { LiveEvent } from "../live/hub.ts";
import { snapshotSchema } from "../shapes.ts";

export const PING_EVERY_MS = 5000;

function sse(event: LiveEvent) {
  return event.kind === "snapshot"
    ? { event: "snapshot", data: JSON.stringify(event.snapshot) }
    : { event: "health", data: JSON.stringify({ services: event.services, error: event.error }) };
}

export function liveRoutes(ctx: ApiContext): Hono {
  const app = new Hono();
  const hub = liveHubOf(ctx);

  app.get(
    "/snapshot",
    describeRoute({
      tags: ["live"],
      summary: "Everything the dashboard shows, once",
      responses: { 200: ok("CPs, sessions, drivers, weather, services, alerts and recent audit events", snapshotSchema), ...errors(503) },
    }),
    async (c) => {
      const event = await hub.current();
      if (event.kind !== "snapshot") throw new AppError("unavailable", event.error);
      return c.json(event.snapshot);
    },
  );

  app.get(
    "/events/stream",
    describeRoute({
      tags: ["live"],
      summary: "Live updates (server-sent events)",
      description:
        "A `text/event-stream`. Events: `snapshot` (data: the same JSON as GET /ev/central/snapshot) first and after every change; " +
        "`health` (data: `{ services, error }`) when the database cannot be read; `ping` (data: the server time) every 5 s.",
      responses: {
        200: { description: "An endless event stream", content: { "text/event-stream": { schema: { type: "string" } } } },
      },
    }),
    (c) =>
      streamSSE(
        c,
        async (stream) => {
          let open = true;
          // Subscribe before reading the first snapshot so no change slips between the two; the
          // client orders snapshots by their `at`.
          const unsubscribe = hub.subscribe((event) => {
            if (open) stream.writeSSE(sse(event)).catch(() => (open = false));
          });
          stream.onAbort(() => {
            open = false;
          });
          try {
            await stream.write("retry: 2000\n\n");
            await stream.writeSSE(sse(await hub.current()));
            while (open) {
              await stream.sleep(PING_EVERY_MS);
              if (open) await stream.writeSSE({ event: "ping", data: new Date().toISOString() });
            }
          } finally {
            open = false;
            unsubscribe();
          }
        },
        async (err) => {
          // A client that went away mid-write: nothing to tell anyone.
          ctx.log.debug("live stream closed", { err });
        },
      ),
  );

  return app;
}
