/**
 * `POST /ev/registry/ocpp-chargers`: an operator registers a charger that speaks OCPP (or
 * registers it again: a new OCPP password). The answer carries the password once, and what to
 * set on the charger. Reading and deregistering go through /charging-points like any CP.
 */
import { Hono } from "hono";
import * as v from "valibot";
import { printable } from "../../../domain/ids.ts";
import { auditFailures } from "../../../http/audit-failures.ts";
import { requireToken } from "../../../http/auth.ts";
import { clientAddress } from "../../../http/client-address.ts";
import { validate } from "../../../http/openapi.ts";
import { citySchema, cpIdSchema } from "../../../http/validate.ts";
import { cpResource } from "../../../identity/audit-resource.ts";
import { registerOcppCharger, registrationView, SECURITY_PROFILES } from "../../../identity/ocpp-chargers.ts";
import type { RegistryContext } from "../context.ts";

export const ocppRegistrationSchema = v.object({
  cp_id: cpIdSchema,
  location: citySchema("location"),
  price_per_kwh: v.optional(
    v.pipe(v.number("price_per_kwh must be a number"), v.finite(), v.minValue(0.01, "price_per_kwh must be at least 0.01"), v.maxValue(100)),
  ),
  security_profile: v.optional(v.picklist(SECURITY_PROFILES, "security_profile must be 1, 2 or 3"), 2),
});

export function ocppChargerRoutes(ctx: RegistryContext): Hono {
  const app = new Hono();
  app.post(
    "/ocpp-chargers",
    requireToken([{ role: "enrollment", token: ctx.config.EVNET_ENROLLMENT_TOKEN }], ctx.auditor),
    auditFailures(ctx.auditor, {
      eventType: "registration",
      action: "register",
      actorType: "operator",
      resource: async (c) => {
        const body = (await c.req.json().catch(() => undefined)) as { cp_id?: unknown } | undefined;
        return typeof body?.cp_id === "string" ? cpResource(printable(body.cp_id)) : undefined;
      },
    }),
    validate("json", ocppRegistrationSchema),
    async (c) => {
      const body = c.req.valid("json");
      const done = await registerOcppCharger(
        { db: ctx.db, auditor: ctx.auditor, defaultPricePerKwh: ctx.config.REGISTRY_DEFAULT_PRICE_PER_KWH },
        { cpId: body.cp_id, location: body.location, pricePerKwh: body.price_per_kwh, securityProfile: body.security_profile },
        { actorId: "registry", sourceAddress: clientAddress(c) },
      );
      c.header("cache-control", "no-store");
      return c.json(registrationView(done), done.created ? 201 : 200);
    },
  );
  return app;
}
