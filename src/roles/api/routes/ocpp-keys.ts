/**
 * `POST /ev/central/ocpp/chargers/:cp_id/key`: an OCPP gateway that has just authenticated a
 * charger (its OCPP password, or its client certificate) asks for that charger's channel key,
 * to seal its events and open Central's commands while it holds the charger's socket. Only
 * gateways (EVNET_GATEWAY_TOKEN) may ask, only for registered OCPP chargers; the key is issued
 * like any CP's (stored wrapped, audited, Central told) and never stored by the gateway.
 */
import { eq } from "drizzle-orm";
import { Hono } from "hono";
import * as v from "valibot";
import { findRegisteredChargingPoint } from "../../../db/repos/cp-registrations.ts";
import { ocppChargers } from "../../../db/schema/index.ts";
import { printable, textSchema } from "../../../domain/ids.ts";
import { type AuditedVariables, auditFailures } from "../../../http/audit-failures.ts";
import { requireToken } from "../../../http/auth.ts";
import { clientAddress } from "../../../http/client-address.ts";
import { bearer, describeRoute, errors, ok, validate } from "../../../http/openapi.ts";
import { cpIdSchema } from "../../../http/validate.ts";
import { cpResource } from "../../../identity/audit-resource.ts";
import { issueChannelKey } from "../../../identity/authenticate.ts";
import { AppError } from "../../../lib/errors.ts";
import type { ApiContext } from "../context.ts";
import { keysMayTravel } from "./auth.ts";

const keyRequestSchema = v.object({
  /** How the gateway authenticated the charger. */
  proof: v.picklist(["password", "client_certificate"], "proof must be password or client_certificate"),
  /** The gateway instance asking, for the audit log. */
  gateway: textSchema(128, "gateway", { required: true }),
  /** Where the charger connected from, for the audit log. */
  charger_address: v.optional(textSchema(128, "charger_address")),
});

const keyResponseSchema = v.object({ cp_id: v.string(), key_id: v.string(), key: v.string(), algorithm: v.literal("AES-256-GCM"), issued_at: v.string() });

export function ocppKeyRoutes(ctx: ApiContext): Hono<{ Variables: AuditedVariables }> {
  const app = new Hono<{ Variables: AuditedVariables }>();
  const servesTls = Boolean(ctx.config.API_TLS_CERT && ctx.config.API_TLS_KEY);
  app.post(
    "/ocpp/chargers/:cp_id/key",
    describeRoute({
      tags: ["auth"],
      summary: "Channel key of an OCPP charger, for the gateway holding its socket",
      description: "Gateway token. Issues a fresh channel key for a registered OCPP charger the gateway has authenticated; the CP becomes ACTIVE.",
      security: bearer,
      responses: { 200: ok("The channel key", keyResponseSchema), ...errors(401, 403, 404, 422, 503) },
    }),
    async (_c, next) => {
      if (!ctx.config.EVNET_GATEWAY_TOKEN) throw new AppError("unavailable", "no OCPP gateway is configured here (EVNET_GATEWAY_TOKEN is not set)");
      await next();
    },
    requireToken([{ role: "service", token: ctx.config.EVNET_GATEWAY_TOKEN ?? "" }], ctx.auditor),
    auditFailures(ctx.auditor, {
      eventType: "authentication",
      action: "authenticate",
      actorType: "cp",
      resource: (c) => cpResource(printable(c.req.param("cp_id") ?? "?")),
    }),
    async (c, next) => {
      if (!keysMayTravel(servesTls, clientAddress(c)))
        throw new AppError("forbidden", "this API serves plain HTTP, so it hands out keys to loopback clients only; configure API_TLS_CERT and API_TLS_KEY");
      await next();
    },
    validate("param", v.object({ cp_id: cpIdSchema })),
    validate("json", keyRequestSchema),
    async (c) => {
      const { cp_id } = c.req.valid("param");
      const body = c.req.valid("json");
      const cp = await findRegisteredChargingPoint(ctx.db, cp_id);
      const [charger] = cp ? await ctx.db.select({ cpId: ocppChargers.cpId }).from(ocppChargers).where(eq(ocppChargers.cpId, cp_id)) : [];
      if (!charger) throw new AppError("not_found", `${cp_id} is not a registered OCPP charger`);
      // A key Central cannot be told about would never make the CP ACTIVE: refuse before issuing one.
      if (!ctx.controlSigner) throw new AppError("unavailable", "CP authentication is not configured here (EVNET_CONTROL_SIGNING_KEY is missing)");
      c.set("audited", true); // issueChannelKey audits the outcome
      const issued = await issueChannelKey(
        { db: ctx.db, auditor: ctx.auditor, bus: ctx.bus, topics: ctx.topics, controlSigner: ctx.controlSigner, masterKey: ctx.config.EVNET_MASTER_KEY },
        { cpId: cp_id, sourceAddress: body.charger_address, details: { via: "ocpp gateway", gateway: body.gateway, proof: body.proof } },
      );
      c.header("cache-control", "no-store");
      return c.json({
        cp_id,
        key_id: issued.keyId,
        key: Buffer.from(issued.key).toString("base64"),
        algorithm: "AES-256-GCM" as const,
        issued_at: issued.issuedAt.toISOString(),
      });
    },
  );
  return app;
}
