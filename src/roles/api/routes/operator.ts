/**
 * Operator actions the dashboard offers (operator token): stop a charging point or resume it.
 * The API does not change the CP's state itself: it hands Central the same control message its
 * admin menu sends (`operator_stop` / `operator_resume`), and Central applies it with its state
 * rules, persists and audits the change — hence 202 Accepted.
 */
import { Hono } from "hono";
import * as v from "valibot";
import { BusError } from "../../../bus/bus.ts";
import { type OperatorCommand, sendControl } from "../../../bus/control-messages.ts";
import { findRegisteredChargingPoint } from "../../../db/repos/cp-registrations.ts";
import { printable } from "../../../domain/ids.ts";
import { type AuditedVariables, auditFailures } from "../../../http/audit-failures.ts";
import { requireToken } from "../../../http/auth.ts";
import { clientAddress } from "../../../http/client-address.ts";
import { bearer, describeRoute, errors, ok, validate } from "../../../http/openapi.ts";
import { cpIdSchema, queryText } from "../../../http/validate.ts";
import { cpResource } from "../../../identity/audit-resource.ts";
import { AppError } from "../../../lib/errors.ts";
import type { ApiContext } from "../context.ts";
import { operatorCommandAcceptedSchema } from "../shapes.ts";
import { whileStoreIsUp } from "./store-errors.ts";

const cpParam = v.object({ cp_id: cpIdSchema });
const reasonQuery = v.object({ reason: queryText("reason") });

const actions = {
  stop: { command: "operator_stop", summary: "Stop a charging point", done: "Central will stop it (a session in progress ends with a ticket)" },
  resume: { command: "operator_resume", summary: "Resume a stopped charging point", done: "Central will make it available again" },
} as const;

export function operatorRoutes(ctx: ApiContext): Hono<{ Variables: AuditedVariables }> {
  const app = new Hono<{ Variables: AuditedVariables }>();
  const operator = requireToken([{ role: "operator", token: ctx.config.EVNET_OPERATOR_TOKEN }], ctx.auditor);

  for (const [verb, action] of Object.entries(actions)) {
    app.post(
      `/charging-points/:cp_id/${verb}`,
      describeRoute({
        tags: ["admin"],
        summary: action.summary,
        description: `Operator token. Hands Central an \`${action.command}\` control message; Central applies it within moments (watch the CP's status).`,
        security: bearer,
        responses: { 202: ok("Handed to Central", operatorCommandAcceptedSchema), ...errors(401, 404, 422, 503) },
      }),
      operator,
      auditFailures(ctx.auditor, {
        eventType: "operator",
        action: `${verb}_cp`,
        actorType: "operator",
        resource: (c) => cpResource(printable(c.req.param("cp_id") ?? "?")),
      }),
      validate("param", cpParam),
      validate("query", reasonQuery),
      async (c) => {
        const { cp_id } = c.req.valid("param");
        const reason = c.req.valid("query").reason || `${verb === "stop" ? "stopped" : "resumed"} by an operator from the dashboard`;
        const cp = await whileStoreIsUp(ctx, `${verb} a charging point`, () => findRegisteredChargingPoint(ctx.db, cp_id));
        if (!cp) throw new AppError("not_found", `charging point ${cp_id} is not registered`);
        const message: OperatorCommand = { type: action.command, cp_id, actor_id: "api", reason, at: new Date().toISOString() };
        try {
          await sendControl(ctx, [message]);
        } catch (err) {
          if (!(err instanceof BusError)) throw err;
          ctx.log.error("could not hand an operator command to Central", { cp_id, command: action.command, err });
          throw new AppError("unavailable", "the bus is unavailable: Central was not told; try again");
        }
        await ctx.auditor.record({
          eventType: "operator",
          actorType: "operator",
          actorId: "api",
          resource: cpResource(cp_id),
          action: `${verb}_cp`,
          outcome: "success",
          reason,
          sourceAddress: clientAddress(c),
        });
        c.set("audited", true);
        return c.json({ cp_id, command: action.command, message: `${cp_id}: ${action.done}` }, 202);
      },
    );
  }

  return app;
}
