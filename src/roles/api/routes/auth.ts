/**
 * `POST /ev/central/auth`: a CP trades its Registry credential for a fresh channel key. The key
 * travels only over HTTPS, or over plain HTTP to a loopback client when an operator runs the
 * API without TLS. Every refusal is a 401 (or 403, 422...) with its reason, audited.
 */
import { Hono } from "hono";
import * as v from "valibot";
import { printable, textSchema } from "../../../domain/ids.ts";
import { type AuditedVariables, auditFailures } from "../../../http/audit-failures.ts";
import { clientAddress, isLoopback } from "../../../http/client-address.ts";
import { describeRoute, errors, ok, validate } from "../../../http/openapi.ts";
import { cpIdSchema } from "../../../http/validate.ts";
import { cpResource } from "../../../identity/audit-resource.ts";
import { authenticateCp } from "../../../identity/authenticate.ts";
import { AppError } from "../../../lib/errors.ts";
import type { ApiContext } from "../context.ts";
import { type ChannelKeyReply, channelKeySchema } from "../shapes.ts";

const authRequestSchema = v.object({
  cp_id: v.optional(cpIdSchema),
  cp_credential: textSchema(4096, "cp_credential", { required: true }),
});

/** Whether this API hands keys out over its transport to this client. */
export function keysMayTravel(servesTls: boolean, peer: string | undefined): boolean {
  return servesTls || isLoopback(peer);
}

export function authRoutes(ctx: ApiContext): Hono<{ Variables: AuditedVariables }> {
  const app = new Hono<{ Variables: AuditedVariables }>();
  const servesTls = Boolean(ctx.config.API_TLS_CERT && ctx.config.API_TLS_KEY);

  app.post(
    "/auth",
    describeRoute({
      tags: ["auth"],
      summary: "Authenticate a charging point",
      description:
        "Trades a CP's current Registry credential for a fresh 256-bit channel key (returned once). The CP becomes ACTIVE. Refused with 401 and a reason for an invalid, expired, forged, superseded or deregistered credential.",
      responses: { 200: ok("The channel key", channelKeySchema), ...errors(400, 401, 403, 422, 503) },
    }),
    auditFailures(ctx.auditor, {
      eventType: "authentication",
      action: "authenticate",
      actorType: "cp",
      resource: async (c) => {
        const body = (await c.req.json().catch(() => undefined)) as { cp_id?: unknown } | undefined;
        return typeof body?.cp_id === "string" ? cpResource(printable(body.cp_id)) : undefined;
      },
    }),
    async (c, next) => {
      if (!keysMayTravel(servesTls, clientAddress(c)))
        throw new AppError("forbidden", "this API serves plain HTTP, so it hands out keys to loopback clients only; configure API_TLS_CERT and API_TLS_KEY");
      await next();
    },
    validate("json", authRequestSchema),
    async (c) => {
      const body = c.req.valid("json");
      if (!ctx.credentialVerifier) throw new AppError("unavailable", "CP authentication is not configured here (REGISTRY_PUBLIC_KEY is missing)");
      c.set("audited", true); // authenticateCp audits every outcome itself
      const issued = await authenticateCp(
        { ...ctx, verifier: ctx.credentialVerifier, masterKey: ctx.config.EVNET_MASTER_KEY },
        { credential: body.cp_credential, cpId: body.cp_id, sourceAddress: clientAddress(c) },
      );
      c.header("cache-control", "no-store");
      return c.json({
        cp_id: issued.cpId,
        key_id: issued.keyId,
        key: Buffer.from(issued.key).toString("base64"),
        algorithm: "AES-256-GCM",
        issued_at: issued.issuedAt.toISOString(),
        message: `Charging point ${issued.cpId} authenticated; keep this key secret, it is not shown again`,
      } satisfies ChannelKeyReply);
    },
  );

  return app;
}
