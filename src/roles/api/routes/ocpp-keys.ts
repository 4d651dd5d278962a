/**
 * `POST /ev/central/ocpp/keys`: an OCPP gateway that has just authenticated chargers (each by
 * its OCPP password or its client certificate) asks for their channel keys, to seal their events
 * and open Central's commands while it holds their sockets. Only gateways (EVNET_GATEWAY_TOKEN)
 * may ask, only for registered OCPP chargers. Keys asked for together are issued together (one
 * transaction, one audit insert, one message to Central): a gateway that restarts under ten
 * thousand chargers asks in a few dozen requests. Each key is issued like any CP's (stored
 * wrapped, audited, Central told) and never stored by the gateway.
 */
import { sql } from "drizzle-orm";
import { Hono } from "hono";
import * as v from "valibot";
import { rowsOf } from "../../../db/client.ts";
import { textSchema } from "../../../domain/ids.ts";
import { type AuditedVariables, auditFailures } from "../../../http/audit-failures.ts";
import { requireToken } from "../../../http/auth.ts";
import { clientAddress } from "../../../http/client-address.ts";
import { bearer, describeRoute, errors, ok, validate } from "../../../http/openapi.ts";
import { cpIdSchema } from "../../../http/validate.ts";
import { cpResource } from "../../../identity/audit-resource.ts";
import { issueChannelKeys } from "../../../identity/authenticate.ts";
import { AppError } from "../../../lib/errors.ts";
import type { ApiContext } from "../context.ts";
import { keysMayTravel } from "./auth.ts";

/** Chargers in one request: the gateway's batches (src/roles/ocpp/key-client.ts) are at most this. */
const MAX_CHARGERS = 250;

const keyRequestSchema = v.object({
  /** The gateway instance asking, for the audit log. */
  gateway: textSchema(128, "gateway", { required: true }),
  chargers: v.pipe(
    v.array(
      v.object({
        cp_id: cpIdSchema,
        /** How the gateway authenticated the charger. */
        proof: v.picklist(["password", "client_certificate"], "proof must be password or client_certificate"),
        /** Where the charger connected from, for the audit log. */
        charger_address: v.optional(textSchema(128, "charger_address")),
      }),
    ),
    v.minLength(1, "chargers must name at least one charger"),
    v.maxLength(MAX_CHARGERS, `at most ${MAX_CHARGERS} chargers at once`),
    v.check((list) => new Set(list.map((c) => c.cp_id)).size === list.length, "each charger at most once per request"),
  ),
});

const issuedKeySchema = v.object({ cp_id: v.string(), key_id: v.string(), key: v.string(), algorithm: v.literal("AES-256-GCM"), issued_at: v.string() });
const keysResponseSchema = v.object({
  keys: v.array(issuedKeySchema),
  /** Chargers that get no key, with why (not registered as OCPP chargers, deregistered). */
  refused: v.array(v.object({ cp_id: v.string(), reason: v.string() })),
});

/** Which of these ids are registered (not deregistered) OCPP chargers. */
async function registeredOcppChargers(ctx: ApiContext, ids: string[]): Promise<Set<string>> {
  const rows = rowsOf<{ cp_id: string }>(
    await ctx.db.execute(sql`select o.cp_id from ocpp_chargers o join charging_points c on c.cp_id = o.cp_id
                              where o.cp_id = any(${sql.param(ids)}::text[]) and c.deregistered_at is null`),
  );
  return new Set(rows.map((r) => r.cp_id));
}

export function ocppKeyRoutes(ctx: ApiContext): Hono<{ Variables: AuditedVariables }> {
  const app = new Hono<{ Variables: AuditedVariables }>();
  const servesTls = Boolean(ctx.config.API_TLS_CERT && ctx.config.API_TLS_KEY);
  app.post(
    "/ocpp/keys",
    describeRoute({
      tags: ["auth"],
      summary: "Channel keys of OCPP chargers, for the gateway holding their sockets",
      description: `Gateway token. Issues a fresh channel key for each registered OCPP charger named (at most ${MAX_CHARGERS}) that the gateway has authenticated; each becomes ACTIVE. Chargers that get none are listed with the reason.`,
      security: bearer,
      responses: { 200: ok("The channel keys, and the chargers refused", keysResponseSchema), ...errors(401, 403, 422, 503) },
    }),
    async (_c, next) => {
      if (!ctx.config.EVNET_GATEWAY_TOKEN) throw new AppError("unavailable", "no OCPP gateway is configured here (EVNET_GATEWAY_TOKEN is not set)");
      await next();
    },
    requireToken([{ role: "service", token: ctx.config.EVNET_GATEWAY_TOKEN ?? "" }], ctx.auditor),
    auditFailures(ctx.auditor, { eventType: "authentication", action: "authenticate", actorType: "service", actorId: () => "ocpp-gateway" }),
    async (c, next) => {
      if (!keysMayTravel(servesTls, clientAddress(c)))
        throw new AppError("forbidden", "this API serves plain HTTP, so it hands out keys to loopback clients only; configure API_TLS_CERT and API_TLS_KEY");
      await next();
    },
    validate("json", keyRequestSchema),
    async (c) => {
      // A key Central cannot be told about would never make the CP ACTIVE: refuse before issuing any.
      if (!ctx.controlSigner) throw new AppError("unavailable", "CP authentication is not configured here (EVNET_CONTROL_SIGNING_KEY is missing)");
      const { gateway, chargers } = c.req.valid("json");
      const registered = await registeredOcppChargers(
        ctx,
        chargers.map((ch) => ch.cp_id),
      );
      const refused = chargers
        .filter((ch) => !registered.has(ch.cp_id))
        .map((ch) => ({ cp_id: ch.cp_id, reason: `${ch.cp_id} is not a registered OCPP charger` }));
      await ctx.auditor.recordMany(
        refused.map((r) => ({
          eventType: "authentication",
          actorType: "cp",
          actorId: r.cp_id,
          resource: cpResource(r.cp_id),
          action: "authenticate",
          outcome: "failure",
          reason: r.reason,
          sourceAddress: chargers.find((ch) => ch.cp_id === r.cp_id)?.charger_address,
          details: { via: "ocpp gateway", gateway },
        })),
      );
      const issued = await issueChannelKeys(
        { db: ctx.db, auditor: ctx.auditor, bus: ctx.bus, topics: ctx.topics, controlSigner: ctx.controlSigner, masterKey: ctx.config.EVNET_MASTER_KEY },
        chargers
          .filter((ch) => registered.has(ch.cp_id))
          .map((ch) => ({ cpId: ch.cp_id, sourceAddress: ch.charger_address, details: { via: "ocpp gateway", gateway, proof: ch.proof } })),
      );
      c.header("cache-control", "no-store");
      return c.json({
        keys: issued.map((k) => ({
          cp_id: k.cpId,
          key_id: k.keyId,
          key: Buffer.from(k.key).toString("base64"),
          algorithm: "AES-256-GCM" as const,
          issued_at: k.issuedAt.toISOString(),
        })),
        refused,
      });
    },
  );
  return app;
}
