/**
 * The Registry's charging points: register or update (a new credential each time, the old one
 * stops working), read (never the credential), deregister. Writes need the enrollment token;
 * every write, refused or not, is audited with the peer's address.
 */
import type { Context } from "hono";
import { Hono } from "hono";
import * as v from "valibot";
import { deregisterChargingPoint, findChargingPoint, findCredential, registerChargingPoint } from "../../../db/repos/cp-registrations.ts";
import type { CpRow } from "../../../db/schema/index.ts";
import { printable } from "../../../domain/ids.ts";
import { auditFailures } from "../../../http/audit-failures.ts";
import { requireToken } from "../../../http/auth.ts";
import { clientAddress } from "../../../http/client-address.ts";
import { validate } from "../../../http/openapi.ts";
import { citySchema, cpIdSchema } from "../../../http/validate.ts";
import { cpResource } from "../../../identity/audit-resource.ts";
import { AppError } from "../../../lib/errors.ts";
import type { RegistryContext } from "../context.ts";
import type { Deregistration, RegisteredCp, Registration, RegistrationRecord } from "../shapes.ts";

const registrationBody = v.object({
  cp_id: cpIdSchema,
  location: citySchema("location"),
  price_per_kwh: v.optional(
    v.pipe(
      v.number("price_per_kwh must be a number"),
      v.finite(),
      v.minValue(0.01, "price_per_kwh must be at least 0.01"),
      v.maxValue(100, "price_per_kwh must be at most 100"),
    ),
  ),
});

const cpParam = v.object({ cp_id: cpIdSchema });

function publicView(cp: CpRow): RegisteredCp {
  return {
    cp_id: cp.cpId,
    location: cp.location,
    price_per_kwh: cp.pricePerKwh,
    status: cp.status,
    registered_at: cp.createdAt.toISOString(),
    updated_at: cp.updatedAt.toISOString(),
  };
}

/** The CP id a refused request named, for its audit entry (the path, else the body if it parsed). */
async function namedCp(c: Context): Promise<string | undefined> {
  const fromPath = c.req.param("cp_id");
  if (fromPath) return printable(fromPath);
  try {
    const body = (await c.req.json()) as { cp_id?: unknown };
    return typeof body?.cp_id === "string" ? printable(body.cp_id) : undefined;
  } catch {
    return undefined;
  }
}

export function chargingPointRoutes(ctx: RegistryContext): Hono {
  const app = new Hono();
  const enrollment = requireToken([{ role: "enrollment", token: ctx.config.EVNET_ENROLLMENT_TOKEN }], ctx.auditor);
  const failureAudit = (eventType: "registration" | "deregistration", action: string) =>
    auditFailures(ctx.auditor, {
      eventType,
      action,
      actorType: "operator",
      resource: async (c) => {
        const cpId = await namedCp(c);
        return cpId ? cpResource(cpId) : undefined;
      },
    });

  app.post("/charging-points", enrollment, failureAudit("registration", "register"), validate("json", registrationBody), async (c) => {
    const body = c.req.valid("json");
    const credential = await ctx.signer.issue(body.cp_id, ctx.config.CREDENTIAL_TTL);
    const result = await registerChargingPoint(
      ctx.db,
      { cpId: body.cp_id, location: body.location, pricePerKwh: body.price_per_kwh },
      credential,
      ctx.config.REGISTRY_DEFAULT_PRICE_PER_KWH,
    );
    const verb = result.created ? "registered" : result.revived ? "registered again" : "updated";
    await ctx.auditor.record({
      eventType: "registration",
      actorType: "operator",
      resource: cpResource(body.cp_id),
      action: result.created || result.revived ? "register" : "update_registration",
      outcome: "success",
      sourceAddress: clientAddress(c),
      details: {
        location: body.location,
        price_per_kwh: result.cp.pricePerKwh,
        credential_id: credential.jti,
        superseded_credential_ids: result.supersededCredentials,
      },
    });
    return c.json(
      {
        ...publicView(result.cp),
        cp_credential: credential.token,
        credential_expires_at: credential.expiresAt.toISOString(),
        message: `Charging point ${body.cp_id} ${verb} at location ${body.location}`,
      } satisfies Registration,
      result.created ? 201 : 200,
    );
  });

  app.get("/charging-points/:cp_id", validate("param", cpParam), async (c) => {
    const { cp_id } = c.req.valid("param");
    const cp = await findChargingPoint(ctx.db, cp_id);
    if (!cp) throw new AppError("not_found", `charging point ${cp_id} is not registered`);
    if (cp.deregisteredAt) throw new AppError("not_found", `charging point ${cp_id} was deregistered at ${cp.deregisteredAt.toISOString()}`);
    const credential = cp.currentCredentialId ? await findCredential(ctx.db, cp.currentCredentialId) : undefined;
    return c.json({
      charging_point: {
        ...publicView(cp),
        credential: credential ? { issued_at: credential.issuedAt.toISOString(), expires_at: credential.expiresAt.toISOString() } : null,
      },
    } satisfies RegistrationRecord);
  });

  app.delete("/charging-points/:cp_id", enrollment, failureAudit("deregistration", "deregister"), validate("param", cpParam), async (c) => {
    const { cp_id } = c.req.valid("param");
    const done = await deregisterChargingPoint(ctx.db, cp_id);
    if (!done) throw new AppError("not_found", `charging point ${cp_id} is not registered`);
    const audit = { actorType: "operator" as const, resource: cpResource(cp_id), outcome: "success" as const, sourceAddress: clientAddress(c) };
    await ctx.auditor.record({
      ...audit,
      eventType: "deregistration",
      action: "deregister",
      details: { revoked_credential_ids: done.revokedCredentials, revoked_key_ids: done.revokedKeys },
    });
    await ctx.auditor.record({ ...audit, eventType: "state_change", action: "set_state", reason: "deregistered", details: { to: "DISCONNECTED" } });
    return c.json({
      cp_id,
      deregistered_at: done.cp.deregisteredAt!.toISOString(),
      message: `Charging point ${cp_id} deregistered; its credential and key no longer work`,
    } satisfies Deregistration);
  });

  return app;
}
