/**
 * Channel keys seen from outside: an operator revokes a CP's key, and anyone (the CP's monitor
 * above all) can ask which key is a CP's active one — a key id is no secret (it travels in
 * every envelope), and a monitor that finds its own is not the active one re-authenticates.
 */
import { Hono } from "hono";
import * as v from "valibot";
import { findActiveKey } from "../../../db/repos/cp-keys.ts";
import { findRegisteredChargingPoint } from "../../../db/repos/cp-registrations.ts";
import { printable } from "../../../domain/ids.ts";
import { type AuditedVariables, auditFailures } from "../../../http/audit-failures.ts";
import { requireToken } from "../../../http/auth.ts";
import { clientAddress } from "../../../http/client-address.ts";
import { bearer, describeRoute, errors, ok, validate } from "../../../http/openapi.ts";
import { cpIdSchema, queryText } from "../../../http/validate.ts";
import { cpResource } from "../../../identity/audit-resource.ts";
import { revokeCpKey } from "../../../identity/revoke.ts";
import { AppError } from "../../../lib/errors.ts";
import type { ApiContext } from "../context.ts";
import { type KeyStatus, keyRevocationSchema, keyStatusSchema } from "../shapes.ts";

const cpParam = v.object({ cp_id: cpIdSchema });
const revokeQuery = v.object({ reason: queryText("reason") });

export function cpKeyRoutes(ctx: ApiContext): Hono<{ Variables: AuditedVariables }> {
  const app = new Hono<{ Variables: AuditedVariables }>();

  app.post(
    "/charging-points/:cp_id/revoke-key",
    describeRoute({
      tags: ["admin"],
      summary: "Revoke a charging point's channel key",
      description: 'The CP goes STOPPED ("key revoked"), its messages under the old key are refused, and its monitor authenticates again for a new key.',
      security: bearer,
      responses: { 200: ok("The revoked key ids", keyRevocationSchema), ...errors(401, 404, 409, 422, 503) },
    }),
    requireToken([{ role: "operator", token: ctx.config.EVNET_OPERATOR_TOKEN }], ctx.auditor),
    auditFailures(ctx.auditor, {
      eventType: "revocation",
      action: "revoke_key",
      actorType: "operator",
      resource: (c) => cpResource(printable(c.req.param("cp_id") ?? "?")),
    }),
    validate("param", cpParam),
    validate("query", revokeQuery),
    async (c) => {
      const { cp_id } = c.req.valid("param");
      const { reason } = c.req.valid("query");
      c.set("audited", true); // revokeCpKey audits every outcome itself
      const done = await revokeCpKey(ctx, { cpId: cp_id, actorType: "operator", actorId: "api", reason, sourceAddress: clientAddress(c) });
      return c.json({ cp_id, revoked_key_ids: done.revokedKeyIds, message: `Key of ${cp_id} revoked; it is STOPPED until it authenticates again` });
    },
  );

  app.get(
    "/charging-points/:cp_id/key-status",
    describeRoute({
      tags: ["auth"],
      summary: "Which channel key is a charging point's active one",
      description: "The active key's id (never the key), or null when the CP is not authenticated or its key was revoked.",
      responses: { 200: ok("The active key id", keyStatusSchema), ...errors(404, 422) },
    }),
    validate("param", cpParam),
    async (c) => {
      const { cp_id } = c.req.valid("param");
      if (!(await findRegisteredChargingPoint(ctx.db, cp_id))) throw new AppError("not_found", `charging point ${cp_id} is not registered`);
      const key = await findActiveKey(ctx.db, cp_id);
      return c.json({ cp_id, key_id: key?.keyId ?? null, issued_at: key?.createdAt.toISOString() ?? null } satisfies KeyStatus);
    },
  );

  return app;
}
