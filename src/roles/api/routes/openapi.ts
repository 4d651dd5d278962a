/** `GET /openapi.json`: the OpenAPI 3.1 document, generated from every route mounted on `app`. */
import type { Hono } from "hono";
import { openAPIRouteHandler } from "hono-openapi";
import * as v from "valibot";
import pkg from "../../../../package.json";
import { describeRoute, ok, securitySchemes } from "../../../http/openapi.ts";

const tags = [
  { name: "charging-points", description: "Charging points and their state" },
  { name: "sessions", description: "Charging sessions in progress and history" },
  { name: "drivers", description: "Drivers and their state" },
  { name: "weather", description: "City temperatures and weather alerts" },
  { name: "audit", description: "The audit log" },
  { name: "auth", description: "Charging point authentication" },
  { name: "admin", description: "Operator actions" },
  { name: "health", description: "Health of the API and of each service" },
  { name: "live", description: "Live updates for the dashboard" },
  { name: "dashboard", description: "Web pages" },
  { name: "meta", description: "This document" },
];

/** Registers the document route on the top-level app, so it describes every route mounted there. */
export function mountOpenApi(app: Hono): void {
  app.get(
    "/openapi.json",
    describeRoute({
      tags: ["meta"],
      summary: "This OpenAPI document",
      responses: { 200: ok("An OpenAPI 3.1 document", v.looseObject({ openapi: v.string() })) },
    }),
    openAPIRouteHandler(app, {
      documentation: {
        info: {
          title: "evnet Central API",
          version: pkg.version,
          description:
            "Central's REST API for the evnet charging network. Reads are public and never show keys, credentials or tokens; " +
            "writes other than charging point authentication need an operator or service bearer token. " +
            'Every error is JSON: `{ "error": { "code", "message", "details"? } }`.',
        },
        tags,
        components: { securitySchemes },
      },
      // Validation failures are 422 with our error body, declared by each route with errors(422).
      defaultValidationErrorResponse: false,
    }),
  );
}
