/** Every weather endpoint, mounted at /ev/central (see src/http/weather-api.ts for the shapes). */
import { Hono } from "hono";
import type { ApiContext } from "../context.ts";
import { cityTemperatureRoutes } from "./city-temperature.ts";
import { weatherEventRoutes } from "./weather-events.ts";
import { weatherHeartbeatRoutes } from "./weather-heartbeat.ts";
import { weatherLocationRoutes } from "./weather-locations.ts";

export function weatherRoutes(ctx: ApiContext): Hono {
  const app = new Hono();
  app.route("/", cityTemperatureRoutes(ctx));
  app.route("/", weatherLocationRoutes(ctx));
  app.route("/", weatherEventRoutes(ctx));
  app.route("/", weatherHeartbeatRoutes(ctx));
  return app;
}
